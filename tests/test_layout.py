"""The package reads as the data path: stage subpackages, one-way imports down the path, no import cycles.

Imports are read with `ast` (every import in a module, also inside functions), so the check sees what a lazy import
would pull in at run time. The layers, lowest first, are LAYERS; a module may import its own layer and the ones
below, never one above. docs/architecture.md explains the order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "linksim"

# lowest first; top-level helper modules are named by their module name, subpackages by their folder
LAYERS: list[set[str]] = [
    {"__init__", "errors", "dbmath", "plots", "files", "iqfile", "compiled"},  # shared helpers
    {"geometry"},
    {"propagation"},
    {"scenario"},
    {"budget"},
    {"channel"},
    {"mitigation"},
    {"dvbs2"},
    {"gr"},
    {"hw"},
    {"report"},
    {"run"},
    {"campaign"},
    {"cli", "api", "__main__"},
]
MAX_TOP_LEVEL_MODULES = 10


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """{module: modules of the package it imports}. `from pkg import name` points at pkg.name when that is a
    module, else at pkg; a relative import is resolved from the importing module."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    pkg = root.name
    graph: dict[str, set[str]] = {}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target != pkg and not target.startswith(pkg + "."):
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    deps.add(sub if sub in files else target)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == pkg or a.name.startswith(pkg + "."):
                        deps.add(a.name)
        deps.discard(mod)
        graph[mod] = {d for d in deps if d in files}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer_of(mod: str, layers: list[set[str]] = LAYERS) -> int:
    parts = mod.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    for i, names in enumerate(layers):
        if key in names:
            return i
    raise KeyError(f"{mod}: not in any layer (add its stage to LAYERS and to docs/architecture.md)")


def upward_imports(graph: dict[str, set[str]], layers: list[set[str]] = LAYERS) -> list[str]:
    return [f"{m} (layer {layer_of(m, layers)}) imports {d} (layer {layer_of(d, layers)})"
            for m, deps in sorted(graph.items()) for d in sorted(deps) if layer_of(d, layers) > layer_of(m, layers)]


GRAPH = import_graph(ROOT)


def test_every_module_has_a_layer() -> None:
    for m in GRAPH:
        layer_of(m)


def test_no_import_cycles() -> None:
    assert find_cycles(GRAPH) == []


def test_imports_go_down_the_data_path() -> None:
    assert upward_imports(GRAPH) == []


def test_top_level_is_small_and_stages_are_packages() -> None:
    top = sorted(p.stem for p in ROOT.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    for stage in ("scenario", "geometry", "propagation", "budget", "channel", "dvbs2", "gr", "hw", "run", "report",
                  "campaign", "cli"):
        init = ROOT / stage / "__init__.py"
        assert init.is_file(), stage
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "Layer" in doc, f"{stage}/__init__.py must say what it owns and what it may import"


def test_channel_never_imports_run_report_or_campaign() -> None:
    for m, deps in GRAPH.items():
        if m.startswith("linksim.channel"):
            assert not any(d.split(".")[1] in ("run", "report", "campaign", "cli", "gr", "dvbs2") for d in deps), m


# -- the checker itself finds what it is there to find -------------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def test_checker_finds_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    root = tmp_path / "linksim"
    _write(root, {
        "__init__.py": "", "run/__init__.py": "", "gr/__init__.py": "",
        "run/loop.py": "from ..gr.link import chain\n",
        "gr/link.py": "def f():\n    from ..run import loop\n    return loop\n",
    })
    g = import_graph(root)
    assert g["linksim.gr.link"] == {"linksim.run.loop"}
    assert find_cycles(g) == [["linksim.gr.link", "linksim.run.loop"]]
    assert upward_imports(g) == ["linksim.gr.link (layer 8) imports linksim.run.loop (layer 11)"]


def test_checker_accepts_downward_imports(tmp_path: Path) -> None:
    root = tmp_path / "linksim"
    _write(root, {
        "__init__.py": "", "errors.py": "", "channel/__init__.py": "", "budget/__init__.py": "",
        "channel/core.py": "from ..budget import timeline\nfrom ..errors import InputError\nimport linksim.errors\n",
        "budget/timeline.py": "from .. import errors\n",
    })
    g = import_graph(root)
    assert g["linksim.channel.core"] == {"linksim.budget.timeline", "linksim.errors"}
    assert g["linksim.budget.timeline"] == {"linksim.errors"}
    assert find_cycles(g) == [] and upward_imports(g) == []


def test_unknown_stage_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="linksim.newstage.x: not in any layer"):
        layer_of("linksim.newstage.x")


def test_cli_start_up_imports_only_the_chosen_command() -> None:
    """`linksim channel` builds its parser from linksim.cli.channel alone (no run, no scipy.signal: each costs a
    tenth of a second of every start-up); with no known command the parser has every command."""
    import subprocess
    import sys

    code = ("import sys; from linksim.cli import build_parser, COMMAND_MODULES; build_parser(['channel', '-h']);"
            "print(sorted(m for m in ('linksim.cli.run', 'linksim.cli.dvbs2', 'linksim.cli.channel', 'scipy.signal')"
            " if m in sys.modules)); p = build_parser([]);"
            "print(sorted(p._subparsers._group_actions[0].choices) == sorted(COMMAND_MODULES))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "['linksim.cli.channel']"
    assert out[1] == "True"
