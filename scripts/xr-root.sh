#!/usr/bin/env bash
# A real OpenXR runtime for the tests: Monado (simulated headset, no GPU needed) needs Debian 13 ("trixie").
# On Debian 13 the packages are installed here directly; anywhere else (Debian 12, Ubuntu) this script builds a
# Debian 13 root with debootstrap, once, and runs commands inside it with the repository mounted at /src.
#
#   scripts/xr-root.sh run python -m pytest tests/test_xr.py    run the XR tests (builds the root when needed)
#   scripts/xr-root.sh run CMD [ARG…]    run CMD in the repository, inside the root, its virtual environment active
#   scripts/xr-root.sh build             build (or unpack the cached copy of) the root, then stop
#   scripts/xr-root.sh shell             an interactive shell inside the root
#   scripts/xr-root.sh clean             remove the root and its cached tarballs
#
# Inside, VRPLAYER_XR_TESTS=1 is set, so the XR tests fail (never skip) when the runtime does not start.
# The root lives in .cache/xr-root/ (≈ 1.4 GB) and is cached as .cache/xr-root-KEY.tar.zst (≈ 450 MB), KEY being
# a hash of this script and pyproject.toml: changing either rebuilds it. A cold build takes 2–4 minutes (network
# bound), unpacking the tarball ≈ 15 s, starting a command in a ready root ≈ 0.3 s; the XR tests take ≈ 15 s.
# Needs root (debootstrap, chroot, mounts). Commands run in a private mount namespace, so the mounts they need
# (/proc, /sys, /dev, the repository) vanish with them, however they end.
# Environment: VRPLAYER_XR_MIRROR (Debian mirror; default: the one this machine's apt uses), VRPLAYER_XR_CACHE
# (where the root and tarballs live, default .cache under the repository).
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
repo=$(pwd -P)

say() { echo "xr-root: $*" >&2; }
die() { say "$*"; exit 1; }

packages=(
  monado-service libopenxr1-monado mesa-vulkan-drivers libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libegl1 libgles2
  libgl1 libopengl0 libglx0 libx11-6 libxrandr2 libxinerama1 libxcursor1 libxi6 libxext6 libxxf86vm1
  xvfb xauth x11-utils xdotool python3 python3-venv libportaudio2 ffmpeg ca-certificates fonts-noto-core
  mosquitto
)
# Python packages: pyproject.toml's dependencies and its "test" and "xr" extras; these stand in for an extra that
# pyproject.toml does not declare.
default_extras='{"test": ["pytest>=8"], "xr": ["pyopenxr>=1.1.6501,<2"]}'
venv=/opt/venv  # inside the root

cache=${VRPLAYER_XR_CACHE:-$repo/.cache}
root=$cache/xr-root
# The Debian mirror this machine's own apt sources name (deb822 .sources files or the one-line format).
host_mirror() {
  { grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print ($2 ~ /^\[/) ? $3 : $2}'
  } | grep -v -e security -e snapshot | head -n1 || true  # (a missing sources file is no error)
}
mirror=${VRPLAYER_XR_MIRROR:-$(host_mirror)}
[[ -n $mirror ]] || die "no Debian mirror named in /etc/apt: set VRPLAYER_XR_MIRROR"
key=$(cat "$self" pyproject.toml | sha256sum | cut -c1-16)
tarball=$cache/xr-root-$key.tar.zst
marker=.vrplayer-xr-root  # written last into a finished root: holds the key

sudo=""
((EUID == 0)) || sudo="sudo"

is_trixie_host() {
  [[ -r /etc/debian_version ]] && grep -Eq '^(13|trixie)' /etc/debian_version
}

# -- Debian 13 host: no root, packages and the project's .venv straight here ------------------------------------
host_setup() {
  local missing=() pkg
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  scripts/setup.sh --test
  if ! .venv/bin/python -c 'import xr' 2>/dev/null; then
    say "installing pyopenxr into .venv"
    python3 -c "$requirements_py" "$default_extras" pyproject.toml xr >.venv/xr-requirements.txt
    .venv/bin/python -m pip install -q -r .venv/xr-requirements.txt
  fi
}

# Prints requirement lines; arguments: pyproject.toml's path, then "deps" (its dependencies) or extras' names.
requirements_py='
import json, sys, tomllib
project = tomllib.load(open(sys.argv[2], "rb"))["project"]
extras = {**json.loads(sys.argv[1]), **project.get("optional-dependencies", {})}
for name in sys.argv[3:]:
    print("\n".join(project["dependencies"] if name == "deps" else extras[name]))
'

host_run() {
  host_setup
  export VIRTUAL_ENV=$repo/.venv PATH=$repo/.venv/bin:$PATH VRPLAYER_XR_TESTS=1
  exec "$@"
}

# -- the root ---------------------------------------------------------------------------------------------------
mounts_under() {  # prints mount points at or below $1 (in this mount namespace)
  findmnt -rn -o TARGET | awk -v p="$1" '$0 == p || index($0, p "/") == 1'
}

remove_tree() {  # never follows a mount into the repository or the host's /dev
  local dir=$1
  [[ -e $dir ]] || return 0
  if [[ -n $(mounts_under "$dir") ]]; then
    die "something is still mounted under $dir; unmount it first:"$'\n'"$(mounts_under "$dir")"
  fi
  $sudo rm -rf --one-file-system "$dir"
}

# Runs "$@" in a private mount namespace with /proc, /sys, /dev (and /src = the repository when with_src=1)
# mounted inside $1. The mounts disappear when the namespace's last process exits.
in_root() {
  local dir=$1 with_src=$2
  shift 2
  local setup='set -e
    mount -t proc proc "$R/proc"
    mount --rbind /sys "$R/sys"
    mount --rbind /dev "$R/dev"
    mountpoint -q "$R/dev/shm" || mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
    if [ "$WITH_SRC" = 1 ]; then mkdir -p "$R/src"; mount --bind "$REPO" "$R/src"; fi
    exec chroot "$R" "$@"'
  $sudo env R="$dir" WITH_SRC="$with_src" REPO="$repo" unshare --mount --propagation private -- sh -c "$setup" sh "$@"
}

clean_env=(env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}"
  PATH=$venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)

build_root() {
  local work=$root.build tmpdir
  remove_tree "$work"
  mkdir -p "$cache"
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on this machine"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  [[ -e /usr/share/debootstrap/scripts/trixie ]] || die "this debootstrap does not know Debian 13 (trixie); upgrade debootstrap"
  # debootstrap (apt inside it) needs a temporary directory everyone may write to.
  tmpdir=$(mktemp -d "$cache/tmp.XXXXXX")
  chmod 1777 "$tmpdir"
  local t0=$SECONDS
  say "debootstrap: Debian 13 minimal root from $mirror (≈ 1 minute)"
  # In a private mount namespace too: the mounts debootstrap makes inside the new root cannot outlive it.
  if ! $sudo env TMPDIR="$tmpdir" unshare --mount --propagation private -- \
      debootstrap --variant=minbase trixie "$work" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    rm -rf "$tmpdir"
    die "debootstrap failed; see $cache/debootstrap.log"
  fi
  rm -rf "$tmpdir"
  say "debootstrap done in $((SECONDS - t0)) s"

  $sudo cp -L /etc/resolv.conf "$work/etc/resolv.conf"
  # pip and apt may go through a TLS-inspecting proxy: trust what this machine trusts.
  local host_ca=""
  for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
    [[ -r $f ]] && { host_ca=$f; break; }
  done
  if [[ -n $host_ca ]]; then
    $sudo mkdir -p "$work/usr/local/share/vrplayer-xr"
    $sudo cp "$host_ca" "$work/usr/local/share/vrplayer-xr/host-ca.crt"
  fi
  echo "deb $mirror trixie main" | $sudo tee "$work/etc/apt/sources.list" >/dev/null
  $sudo chmod 1777 "$work/tmp"

  t0=$SECONDS
  say "apt: installing Monado, Mesa, Xvfb, Python (≈ 1 minute)"
  in_root "$work" 0 "${clean_env[@]}" DEBIAN_FRONTEND=noninteractive sh -c '
    set -e
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    apt-get clean
    rm -rf /var/lib/apt/lists/*' sh "${packages[@]}" >"$cache/apt.log" 2>&1 || die "apt failed inside the root; see $cache/apt.log"
  say "apt done in $((SECONDS - t0)) s"

  t0=$SECONDS
  say "pip: the project's dependencies, pytest and pyopenxr into $venv (≈ 30 s)"
  $sudo cp pyproject.toml "$work/tmp/pyproject.toml"
  local pip_env=()
  [[ -n $host_ca ]] && pip_env=(PIP_CERT=/usr/local/share/vrplayer-xr/host-ca.crt)
  # The root's Python reads pyproject.toml (this machine's may be too old for tomllib).
  in_root "$work" 0 "${clean_env[@]}" "${pip_env[@]}" PIP_DISABLE_PIP_VERSION_CHECK=1 sh -c '
    set -e
    python3 -c "$1" "$2" /tmp/pyproject.toml deps test xr >/tmp/requirements.txt
    python3 -m venv "$0"
    "$0/bin/python" -m pip install -q --no-cache-dir -r /tmp/requirements.txt
    rm -f /tmp/requirements.txt /tmp/pyproject.toml' "$venv" "$requirements_py" "$default_extras" >"$cache/pip.log" 2>&1 || die "pip failed inside the root; see $cache/pip.log"
  say "pip done in $((SECONDS - t0)) s"

  in_root "$work" 0 "${clean_env[@]}" sh -c 'command -v monado-service >/dev/null && python -c "import xr, av, OpenGL, glfw, numpy"' \
    || die "the root was built but lacks monado-service or a Python module"
  echo "$key" | $sudo tee "$work/$marker" >/dev/null

  t0=$SECONDS
  say "caching the root as $(basename "$tarball") (≈ 10 s)"
  [[ -z $(mounts_under "$work") ]] || die "mounts left under $work"
  local part=$tarball.part
  $sudo tar -C "$work" --numeric-owner --one-file-system -cf - . | zstd -q -T0 -3 -f -o "$part"
  mv -f "$part" "$tarball"
  say "cached in $((SECONDS - t0)) s ($(du -h "$tarball" | cut -f1))"
  install_root "$work"
}

install_root() {  # moves a finished root into place and drops tarballs of other keys
  remove_tree "$root"
  mv "$1" "$root"
  local old
  for old in "$cache"/xr-root-*.tar.zst; do
    [[ $old == "$tarball" || ! -e $old ]] || rm -f "$old"
  done
}

unpack_root() {
  local work=$root.build t0=$SECONDS
  remove_tree "$work"
  mkdir -p "$work"
  say "unpacking the cached root $(basename "$tarball")"
  if ! zstd -q -d -c "$tarball" | $sudo tar -C "$work" --numeric-owner -xpf -; then
    say "the cached tarball is damaged; rebuilding"
    rm -f "$tarball"
    return 1
  fi
  [[ $(cat "$work/$marker" 2>/dev/null) == "$key" ]] || { say "the cached tarball is incomplete; rebuilding"; rm -f "$tarball"; return 1; }
  install_root "$work"
  say "unpacked in $((SECONDS - t0)) s"
}

ensure_root() {
  mkdir -p "$cache"
  exec 9>"$cache/xr-root.lock"
  flock 9  # one builder at a time; later callers wait and then find the root ready
  if [[ $(cat "$root/$marker" 2>/dev/null) == "$key" ]]; then
    return 0
  fi
  [[ -e $root ]] && say "the root in $root is out of date or half-built; replacing it"
  if [[ -f $tarball ]] && unpack_root; then
    return 0
  fi
  build_root
}

root_run() {
  ensure_root
  flock -s 9  # shared while the command runs (fd 9 stays open in it): a rebuild waits for it to finish
  local pass=() var
  for var in $(compgen -e); do
    case $var in VRPLAYER_*|PYTEST_ADDOPTS) pass+=("$var=${!var}") ;; esac
  done
  in_root "$root" 1 "${clean_env[@]}" VIRTUAL_ENV=$venv PYTHONPATH=/src PYTHONDONTWRITEBYTECODE=1 \
    VRPLAYER_XR_TESTS=1 "${pass[@]}" sh -c 'cd /src && exec "$@"' sh "$@"
}

command=${1:-}
shift || true
case $command in
  run)
    (($#)) || die "usage: scripts/xr-root.sh run CMD [ARG…]"
    if is_trixie_host; then host_run "$@"; else root_run "$@"; fi
    ;;
  build)
    if is_trixie_host; then host_setup; else ensure_root; fi
    ;;
  shell)
    if is_trixie_host; then host_run bash; else root_run bash -i; fi
    ;;
  clean)
    remove_tree "$root"
    remove_tree "$root.build"
    rm -f "$cache"/xr-root-*.tar.zst "$cache"/xr-root.lock
    ;;
  *)
    sed -n '2,/^set /{/^#/p}' "$self" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
