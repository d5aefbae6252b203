"""A network link of a chosen speed, for tests and benchmarks: a veth pair between this machine and a network
namespace of its own, the host's end shaped by a token bucket (`tc qdisc … tbf`; `netem` is not on these kernels).
A server bound to `host_address` sends to whatever runs inside the namespace (`wrap(command)`) at `rate` bits per
second. Needs root (CAP_NET_ADMIN)."""

from __future__ import annotations

import os
import shutil
import subprocess


def available() -> str | None:
    """Why a shaped link cannot be made here, or None when it can."""
    if os.geteuid() != 0:
        return "shaping a link needs root (network namespaces, tc)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"the {tool} command is not installed (iproute2)"
    return None


class ShapedLink:
    def __init__(self, rate_bits: float, tag: str | None = None, octet: int | None = None):
        """tag: names the namespace and interfaces; octet: the link's own 10.231.OCTET.0/24 (several links at once)."""
        self.rate_bits = rate_bits
        tag = tag or str(os.getpid() % 100000)
        self.namespace = f"vrp{tag}"
        self._host, self._inside = f"vh{tag}", f"vi{tag}"
        octet = octet if octet is not None else 10 + os.getpid() % 200
        self.host_address, self.inside_address = f"10.231.{octet}.1", f"10.231.{octet}.2"

    def _run(self, *command: str) -> None:
        subprocess.run(command, check=True, capture_output=True)

    def __enter__(self) -> ShapedLink:
        self._run("ip", "netns", "add", self.namespace)
        try:
            self._run("ip", "link", "add", self._host, "type", "veth", "peer", "name", self._inside)
            self._run("ip", "link", "set", self._inside, "netns", self.namespace)
            self._run("ip", "addr", "add", f"{self.host_address}/24", "dev", self._host)
            self._run("ip", "link", "set", self._host, "up")
            inside = ("ip", "netns", "exec", self.namespace)
            self._run(*inside, "ip", "addr", "add", f"{self.inside_address}/24", "dev", self._inside)
            self._run(*inside, "ip", "link", "set", self._inside, "up")
            self._run(*inside, "ip", "link", "set", "lo", "up")
            self.set_rate(self.rate_bits)
        except BaseException:
            self.__exit__()
            raise
        return self

    def set_rate(self, rate_bits: float) -> None:
        """Shape the host's end (what servers on this side send) to `rate_bits` bits per second."""
        self.rate_bits = rate_bits
        burst = max(4096, int(rate_bits / 8 / 50))  # 20 ms of the rate: a bucket, not a buffer
        subprocess.run(["tc", "qdisc", "del", "dev", self._host, "root"], capture_output=True)
        self._run("tc", "qdisc", "add", "dev", self._host, "root", "tbf", "rate", f"{int(rate_bits)}bit",
                  "burst", str(burst), "latency", "300ms")

    def wrap(self, command: list[str]) -> list[str]:
        """`command`, to be run inside the namespace (behind the shaped link)."""
        return ["ip", "netns", "exec", self.namespace, *command]

    def __exit__(self, *exc) -> None:
        subprocess.run(["ip", "link", "del", self._host], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True)
