"""The public front door (``ssa.<name>``, imported lazily) and the import rules that keep
layers apart: kernels and geometry import nothing of ssa, cdm does not import risk."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import ssa

PACKAGE = Path(ssa.__file__).parent
HEAVY = ("numba", "ssa.screening", "ssa.risk", "scipy", "matplotlib", "skyfield")


@pytest.mark.parametrize("name", [n for n in ssa.__all__ if n != "__version__"])
def test_front_door_names_are_the_home_objects(name):
    value = getattr(ssa, name)
    assert value is getattr(importlib.import_module(ssa._EXPORTS[name]), name)
    assert name in dir(ssa)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ssa.nope  # noqa: B018


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_stay_light(argv):
    """``ssa --version`` / ``--help`` import none of the heavy parts (checked in a fresh
    interpreter: sys.modules after running the CLI)."""
    code = (
        "import sys\nfrom ssa.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "ssa.cli" in out
    heavy = [m for m in out if m.startswith(HEAVY)]
    assert heavy == []
    assert any(line.startswith("ssa ") for line in out) or argv == ["--help"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _ssa_imports(path: Path) -> set[str]:
    """Every ssa module a source file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "ssa"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "ssa":
                found.add(node.module)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _ssa_imports(p) for p in PACKAGE.rglob("*.py")}


def _closure(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        mod = todo.pop()
        for dep in graph.get(mod, set()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_kernels_and_geometry_import_nothing_of_ssa():
    graph = _graph()
    assert _closure(graph, "ssa.screening.kernels") == set()
    geometry = [m for m in graph if m == "ssa.geometry" or m.startswith("ssa.geometry.")]
    assert len(geometry) >= 4
    for mod in geometry:
        outside = {d for d in _closure(graph, mod) if not d.startswith("ssa.geometry")}
        assert outside == set(), (mod, outside)


def test_cdm_does_not_import_risk():
    reach = _closure(_graph(), "ssa.cdm")
    assert not {m for m in reach if m == "ssa.risk" or m.startswith("ssa.risk.")}, reach


def test_the_rules_see_lazy_imports(tmp_path):
    """The checker finds an import hidden in a function (as cdm's was)."""
    src = tmp_path / "mod.py"
    src.write_text(
        "def f():\n    from ssa.risk.covariance import rtn_to_inertial\n    import ssa.report\n"
    )
    assert _ssa_imports(src) == {"ssa.risk.covariance", "ssa.report"}
