"""The package's import graph: no cycles, and no stage imports a stage above it.

The layer order is written here once; ``docs/architecture.md`` describes it. Every ``import``
and ``from ... import`` statement of every module under ``sim/`` counts, wherever it stands (a
function-level import is a dependency too; one under ``if TYPE_CHECKING:`` counts for the
layers, not for cycles, since it never runs). Importing ``sim.a.b`` is an edge to ``sim.a.b``
only: that Python also runs the packages' ``__init__`` files on the way is how packages work,
not a dependency of the importing module.
"""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[2] / "sim"

#: Stages, lowest first. A module belongs to the stage of the longest prefix naming it (a
#: prefix names a module and everything under it). A stage may import its own stage and the
#: stages below it. A package's scenario blocks (``spec``) and file formats (``catalog``,
#: ``roster``) are part of the input stage: the scenario is composed from them.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("sim.base",)),
    ("input", ("sim.input", "sim.world.spec", "sim.world.catalog", "sim.world.roster", "sim.classic.spec",
               "sim.campaign.spec", "sim.campaign.rate_cards", "sim.optimize.spec")),
    ("world", ("sim.world",)),
    ("families", ("sim.families", "sim.classic", "sim.campaign", "sim.influence")),
    ("execution", ("sim.execution",)),
    ("results", ("sim.results",)),
    ("report", ("sim.report",)),
    ("api", ("sim.api",)),
    ("studies", ("sim.calibration", "sim.experiments", "sim.optimize")),
    ("cli", ("sim.cli",)),
)

#: Modules that name only themselves (the package's public face sits with the API).
EXACT = {"sim": "api"}

#: Packages of one stage that must not import each other (the two model families share only
#: what is below them).
APART = (("sim.classic", "sim.campaign"),)


def _modules() -> dict[str, Path]:
    out = {}
    for path in SIM.rglob("*.py"):
        parts = path.relative_to(SIM.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> int:
    """Index in :data:`LAYERS` of the stage a module belongs to."""
    names = [name for name, _ in LAYERS]
    if module in EXACT:
        return names.index(EXACT[module])
    best = max(((len(p), i) for i, (_, prefixes) in enumerate(LAYERS) for p in prefixes if _under(module, p)),
               default=None)
    if best is None:
        raise AssertionError(f"{module} is in no stage of LAYERS; add it where it belongs")
    return best[1]


def _type_checking(node: ast.AST) -> bool:
    """Whether ``node`` is ``if TYPE_CHECKING:`` (imports for annotations only)."""
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports(module: str, *, annotations: bool = True) -> set[str]:
    """The modules of ``sim`` that ``module`` imports (``from a import b`` counts ``a.b`` when it
    is a module, else ``a``); ``annotations=False`` leaves out imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skip: set[int] = set()
    if not annotations:
        for node in ast.walk(tree):
            if _type_checking(node):
                skip.update(id(n) for n in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                     for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:  # `import sim.a.b.c` where c is not a module
                name = name.rpartition(".")[0]
            if name and _under(name, "sim") and name != module:
                found.add(name)
    return found


#: Every import, annotations' included: no stage may name a later stage's types either.
GRAPH = {m: imports(m) for m in MODULES}
#: Imports that run: a cycle among them is a cycle (a block's annotation may name the scenario
#: the block sits in, which imports the block).
RUNTIME = {m: imports(m, annotations=False) for m in MODULES}


def test_every_module_has_a_stage():
    stages = {module: layer_of(module) for module in MODULES}  # raises for a module no stage claims
    assert len(stages) == len(MODULES) and all(0 <= s < len(LAYERS) for s in stages.values())


def test_no_module_imports_a_later_stage():
    names = [name for name, _ in LAYERS]
    upward = [f"{m} ({names[layer_of(m)]}) imports {t} ({names[layer_of(t)]})"
              for m, targets in sorted(GRAPH.items()) for t in sorted(targets) if layer_of(t) > layer_of(m)]
    assert upward == []


def test_the_model_families_do_not_import_each_other():
    crossing = [f"{m} imports {t}" for a, b in APART for m, targets in sorted(GRAPH.items()) for t in sorted(targets)
                if (_under(m, a) and _under(t, b)) or (_under(m, b) and _under(t, a))]
    assert crossing == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert cycles(RUNTIME) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def _doc_tree() -> dict[str, set[str]]:
    """Package -> the words of its entry in ``docs/architecture.md``'s tree of ``sim/``."""
    text = (SIM.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```\nsim/\n", 1)[1].split("```", 1)[0]
    tree: dict[str, set[str]] = {}
    package = ""
    for line in block.splitlines():
        head = line[2:].split(" ", 1)[0]
        if line.startswith("  ") and not line.startswith("   ") and head.endswith("/"):
            package = head.rstrip("/")
        elif line.startswith("  ") and not line.startswith("   "):
            package = head  # a module of sim/ itself (api.py)
        tree.setdefault(package, set()).update(line.replace(",", " ").split())
    return tree


def test_the_architecture_doc_shows_every_package_and_module():
    """The tree in docs/architecture.md names every package and module (the experiments package's
    one module per reproduction excepted: the tree says so)."""
    tree = _doc_tree()
    missing = []
    for module in MODULES:
        parts = module.split(".")
        if len(parts) == 1:
            continue  # sim itself
        if len(parts) == 2 and (SIM / f"{parts[1]}.py").is_file():
            found = f"{parts[1]}.py" in tree  # a module of sim/ itself
        elif parts[1] == "experiments" and len(parts) == 3:
            found = "experiments" in tree
        else:
            found = parts[1] in tree and (len(parts) == 2 or parts[2] in tree[parts[1]])
        if not found:
            missing.append(module)
    assert missing == [], "add them to the tree in docs/architecture.md"
