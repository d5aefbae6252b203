"""The house's floors: data flows media → clock → render → display, with audio beside, and the player wiring them;
no module of a lower floor imports one above it. Read from the source of every module (imports inside functions
included; type-only imports under TYPE_CHECKING are not dependencies at run time)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "vrplayer"

# What each floor is, by module or package name under vrplayer.
FLOORS = {
    "shared": ("errors", "log", "geometry", "formats", "layout", "view", "memory", "progress", "__init__"),
    "media": ("media",),
    "audio": ("audio",),
    "clock": ("sync",),
    "render": ("render",),
    "display": ("display", "xr_pose"),
    "player": ("player", "controls"),
    "rooms": ("kiosk", "room", "analytics", "creator", "text", "cameras", "cli", "snapshot", "bench", "__main__"),
}
# The floors each may import (its own included). Media, the clock and the renderer know only the shared floor:
# the player hands each what the one before it made.
MAY_IMPORT = {
    "shared": {"shared"},
    "media": {"shared", "media"},
    "audio": {"shared", "media", "audio"},
    "clock": {"shared", "clock"},
    "render": {"shared", "render"},
    "display": {"shared", "render", "display"},
    "player": {"shared", "media", "audio", "clock", "render", "display", "player"},
    "rooms": set(FLOORS),
}


def floor_of(module: str) -> str:
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else "__init__"
    if head.startswith("__") and head != "__main__":
        head = "__init__"  # the package's own names (__version__)
    for floor, names in FLOORS.items():
        if head in names:
            return floor
    raise AssertionError(f"{module} belongs to no floor: add it to FLOORS")


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1 and parts != ["vrplayer", "__init__"]:
        parts.pop()
    return ".".join(parts)


def run_time_imports(path: Path, importer: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    type_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for child in ast.walk(node))
    found = []
    package = importer if path.name == "__init__.py" else importer.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] if base == "vrplayer" else [base]
            found += [(node.lineno, name) for name in names]
    return [(line, name) for line, name in found if name == "vrplayer" or name.startswith("vrplayer.")]


def against_the_flow(path: Path, importer: str) -> list[str]:
    floor = floor_of(importer)
    return [f"{importer}:{line}: {floor} imports {imported} ({floor_of(imported)})"
            for line, imported in run_time_imports(path, importer)
            if imported != "vrplayer" and floor_of(imported) not in MAY_IMPORT[floor]]


def test_no_floor_imports_one_above_it():
    modules = sorted(ROOT.rglob("*.py"))
    assert len(modules) > 50
    wrong = [line for path in modules for line in against_the_flow(path, module_name(path))]
    assert not wrong, "imports against the data flow:\n" + "\n".join(wrong)


def test_the_check_sees_what_it_checks(tmp_path):
    # An upward import is caught wherever it hides (a function's body, a relative import); a type-only one is not.
    module = tmp_path / "probe.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from vrplayer.player import Player\n"
        "def f():\n    from vrplayer.render.renderer import SphereRenderer\n"
        "from ..audio import mixer\nimport vrplayer.display.base\n"
    )
    wrong = against_the_flow(module, "vrplayer.media.probe")
    assert sorted(line.split(": ")[1] for line in wrong) == [
        "media imports vrplayer.audio (audio)", "media imports vrplayer.display.base (display)",
        "media imports vrplayer.render.renderer (render)"], wrong
    probe = ROOT / "media" / "probe.py"
    names = [name for _, name in run_time_imports(probe, "vrplayer.media.probe")]
    assert "vrplayer.media.soundtrack" in names and "vrplayer.formats" in names and "vrplayer.layout" in names
    layout_init = ROOT / "layout" / "__init__.py"
    if layout_init.exists():
        assert floor_of(module_name(layout_init)) == "shared"
    assert floor_of("vrplayer.render.renderer") == "render" and floor_of("vrplayer") == "shared"
    assert "rooms" not in MAY_IMPORT["player"] and "player" not in MAY_IMPORT["display"]


def test_modules_read_in_one_sitting():
    # A few hundred lines: the longest module today is well under this; a module that grows past it has two
    # concepts in it.
    long = [f"{p.relative_to(ROOT.parent)}: {n} lines" for p in ROOT.rglob("*.py") if (n := len(p.read_text().splitlines())) > 600]
    assert not long, long
