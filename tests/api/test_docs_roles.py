"""Issue 10, item 25: docs/security.md's table of who may call what is the API's own.

Each endpoint is one row (method, path, least role); the test reads the role each route
really requires from its dependencies, so an endpoint added, removed or re-guarded without
the table following fails here.
"""

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from pstg.api import routers
from tests.api.conftest import Api

SECURITY_MD = Path(__file__).parents[2] / "docs" / "security.md"
ROW = re.compile(r"^\| `([A-Z]+)` \| `(/[^`]*)` \| (\w+) \|", re.MULTILINE)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if callable(dependency.call):
            yield dependency.call
        yield from _calls(dependency)


def api_routes() -> Iterator[APIRoute]:
    """Every route of the router modules create_app includes."""
    for module in pkgutil.iter_modules(routers.__path__):
        router = importlib.import_module(f"{routers.__name__}.{module.name}").router
        for route in router.routes:
            assert isinstance(route, APIRoute)
            yield route


def required_roles() -> dict[tuple[str, str], str]:
    """(method, path) -> the least role a route admits, or "nothing"."""
    needs: dict[tuple[str, str], str] = {}
    for route in api_routes():
        roles = [
            inspect.getclosurevars(call).nonlocals["role"].label
            for call in _calls(route.dependant)
            if getattr(call, "__qualname__", "") == "require.<locals>.check_role"
        ]
        for method in route.methods or ():
            needs[method, route.path] = roles[0] if roles else "nothing"
    return needs


def documented_roles() -> dict[tuple[str, str], str]:
    return {(m, path): role for m, path, role in ROW.findall(SECURITY_MD.read_text())}


def test_the_role_table_in_docs_security_is_the_apis(api: Api) -> None:
    actual = required_roles()
    served = {
        (method.upper(), path)
        for path, operations in api.app.openapi()["paths"].items()
        for method in operations
    }
    assert served <= set(actual)  # every documented-in-OpenAPI route was found by the walk
    assert documented_roles() == actual
