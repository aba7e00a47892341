"""The areas' imports keep the layering DESIGN.md describes.

Each module under portal/ is parsed (never imported) and its imports checked:

- no module uses another area's underscore names (`from portal.ordering.service
  import _event`, or `ledger._figures_of_order` on a module imported from another
  area): what one area needs of another is that area's public interface;
- ordering never imports fulfilment: the desk builds on ordering, not the reverse;
- no area imports another area's routes (blueprint modules): areas share models
  and services; only the app factory registers the blueprints.

The checker itself is tried on small sources that break each rule, so a rule
that stopped finding anything would fail here too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"

# Ordering must not import these areas (they build on it).
BUILT_ON_ORDERING = ("fulfilment",)


@dataclass(frozen=True)
class Module:
    name: str  # portal.fulfilment.service
    path: str  # portal/fulfilment/service.py, for messages
    tree: ast.Module
    is_package: bool = False

    @property
    def area(self) -> str:
        """portal.X.… belongs to area X; a top-level module (portal.security) is its own."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else ""


def _modules() -> dict[str, Module]:
    found = {}
    for path in sorted(PORTAL.rglob("*.py")):
        relative = path.relative_to(PORTAL.parent)
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        found[name] = Module(
            name, str(relative), ast.parse(path.read_text(), str(relative)), is_package
        )
    return found


def _is_blueprint_module(module: Module) -> bool:
    """A module that makes a Blueprint at its top level: an area's routes."""
    for node in module.tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if (
                getattr(func, "id", None) == "Blueprint"
                or getattr(func, "attr", None) == "Blueprint"
            ):
                return True
    return False


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module a `from … import` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    if not module.is_package:
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _area_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "portal" or len(parts) < 2:
        return None
    return parts[1]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def problems(module: Module, known: set[str], blueprints: set[str]) -> list[str]:
    """Every import of `module` that breaks one of the rules, described for a person."""
    found = []
    own = module.area
    # Names in this module bound to another area's modules: `from portal.x import service as s`.
    foreign_modules: dict[str, str] = {}

    def imported(target: str, line: int) -> None:
        area = _area_of(target)
        if area is None or area == own:
            return
        if own == "ordering" and area in BUILT_ON_ORDERING:
            found.append(
                f"{module.path}:{line} imports {target}: ordering must not import {area} "
                f"({area} builds on ordering)"
            )
        if target in blueprints and module.name != "portal":
            found.append(
                f"{module.path}:{line} imports {target}, the {area} area's routes: "
                "use its services or models"
            )

    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported(alias.name, node.lineno)
                if alias.asname and _area_of(alias.name) not in (None, own):
                    foreign_modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            imported(source, node.lineno)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:
                    imported(submodule, node.lineno)
                    if _area_of(submodule) not in (None, own):
                        foreign_modules[alias.asname or alias.name] = submodule
                elif _private(alias.name) and _area_of(source) not in (None, own):
                    found.append(
                        f"{module.path}:{node.lineno} imports {alias.name} from {source}: "
                        "a private name of another area"
                    )
    for node in ast.walk(module.tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in foreign_modules
            and _private(node.attr)
        ):
            found.append(
                f"{module.path}:{node.lineno} uses {foreign_modules[node.value.id]}.{node.attr}: "
                "a private name of another area"
            )
    return found


def _check_all() -> list[str]:
    modules = _modules()
    blueprints = {name for name, module in modules.items() if _is_blueprint_module(module)}
    found = []
    for module in modules.values():
        found += problems(module, set(modules), blueprints)
    return found


def test_the_areas_keep_their_layering():
    assert _check_all() == []


def test_the_checker_sees_the_areas_and_their_routes():
    modules = _modules()
    blueprints = {name for name, module in modules.items() if _is_blueprint_module(module)}
    assert {"portal.ordering.routes", "portal.fulfilment.routes", "portal.accounts.auth"} <= (
        blueprints
    )
    assert "portal.ordering.service" not in blueprints
    assert modules["portal.fulfilment.shipments"].area == "fulfilment"


KNOWN = {
    "portal.ordering.service",
    "portal.ordering.routes",
    "portal.fulfilment.service",
    "portal.fulfilment.ledger",
    "portal.fulfilment.routes",
    "portal.security",
}
BLUEPRINTS = {"portal.ordering.routes", "portal.fulfilment.routes"}


@pytest.mark.parametrize(
    ("module_name", "source", "expected"),
    [
        (
            "portal.fulfilment.shipments",
            "from portal.ordering.service import _event, lock_order\n",
            "imports _event from portal.ordering.service: a private name of another area",
        ),
        (
            "portal.fulfilment.shipments",
            "from ..ordering.service import _release\n",
            "imports _release from portal.ordering.service",
        ),
        (
            "portal.home.service",
            "from portal.fulfilment import ledger\nledger._figures_of_order(1, 'x')\n",
            "uses portal.fulfilment.ledger._figures_of_order",
        ),
        (
            "portal.home.service",
            "import portal.fulfilment.ledger as book\nbook._add_to_day(1, 2, {})\n",
            "uses portal.fulfilment.ledger._add_to_day",
        ),
        (
            "portal.ordering.service",
            "def cancel():\n    from portal.fulfilment.service import lock\n",
            "ordering must not import fulfilment",
        ),
        (
            "portal.ordering.routes",
            "from portal.fulfilment import ledger\n",
            "ordering must not import fulfilment",
        ),
        (
            "portal.fulfilment.service",
            "from portal.ordering import routes\n",
            "the ordering area's routes",
        ),
        (
            "portal.home.service",
            "from portal.fulfilment.routes import inbox\n",
            "the fulfilment area's routes",
        ),
    ],
)
def test_the_checker_finds_each_kind_of_breach(module_name, source, expected):
    module = Module(module_name, module_name.replace(".", "/") + ".py", ast.parse(source))
    found = problems(module, KNOWN, BLUEPRINTS)
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(
    "source",
    [
        "from portal.ordering.service import lock_order, record_event\n",
        "from portal.fulfilment import _helpers\n",  # own area: its own business
        "from .service import _only_here\n",
        "from portal.ordering import service as ordering\nordering.__name__\n",
        "from portal.security import requires\n",
    ],
)
def test_the_checker_lets_public_and_own_names_pass(source):
    module = Module(
        "portal.fulfilment.shipments", "portal/fulfilment/shipments.py", ast.parse(source)
    )
    assert problems(module, KNOWN, BLUEPRINTS) == []
