"""asd_lib's imports point one way: each module imports from lower layers (the table of
docs/architecture.md) or its own package only, and no chain of imports between modules
comes back to where it started."""
import ast
import re
from pathlib import Path
from typing import Dict, Set

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "asd_lib"


def layers() -> Dict[str, int]:
    """Package -> layer, from the table of docs/architecture.md."""
    table = {}
    for line in (REPO / "docs/architecture.md").read_text().splitlines():
        match = re.match(r"^\|\s*(\d+)\s*\|([^|]+)\|", line)
        if match:
            for name in re.findall(r"`([a-z_]+)`", match.group(2)):
                table[name] = int(match.group(1))
    return table


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit(module: str) -> str:
    """The package of a module for the layer table: ``asd_lib.models.x`` -> ``models``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "asd_lib"


def imports() -> Dict[str, Set[str]]:
    """Module -> the asd_lib modules it imports (anywhere in the file)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found.update(n for n in names if n == "asd_lib" or n.startswith("asd_lib."))
        graph[module_name(path)] = found
    return graph


def test_every_package_has_a_layer():
    table = layers()
    packages = {unit(m) for m in imports()}
    assert packages - set(table) == set(), "add these packages to docs/architecture.md"
    assert set(table) - packages == set(), "docs/architecture.md names packages that are gone"


def test_imports_go_down_the_layers():
    table = layers()
    upward = sorted(f"{module} imports {target}"
                    for module, targets in imports().items() for target in targets
                    if unit(target) != unit(module) and table[unit(target)] >= table[unit(module)])
    assert upward == []


def test_no_import_cycles():
    graph = imports()
    resolved = {m: {t for t in targets if t in graph} | {t.rsplit(".", 1)[0] for t in targets
                                                          if t not in graph}
                for m, targets in graph.items()}
    state: Dict[str, int] = {}
    cycles = []

    def visit(module, path):
        state[module] = 1
        for target in sorted(resolved.get(module, ())):
            if target not in graph or target == module:
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
