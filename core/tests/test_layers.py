"""The apps depend one way (docs/architecture.md, "Layers"):

    core ← accounts ← points ← shop ← orders ← live ← notifications ← api ← adminpanel

Every module of every app is imported (so none hides an import error), then its source is
read with `ast`: every import in it — at the top or inside a function — may name only its own
app or an app below. The project package `dorami` has wiring modules (settings, urls, asgi,
routing, ...) that may import anything, and helpers (realtime, ratelimit, template tags, ...)
that apps import and that may import only core and accounts. Nothing gets around the rule with
`apps.get_model` or a dotted path resolved at run time.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

LAYERS = [
    "core",
    "accounts",
    "points",
    "shop",
    "orders",
    "live",
    "notifications",
    "api",
    "adminpanel",
]
RANK = {app: rank for rank, app in enumerate(LAYERS)}
PROJECT = "dorami"
# Project wiring: builds the site from every app; no app imports these.
WIRING = (
    "dorami.settings",
    "dorami.urls",
    "dorami.asgi",
    "dorami.wsgi",
    "dorami.routing",
    "dorami.celery",
    "dorami.scheduler",  # runs the beat schedule in-process (embedded mode)
    "dorami.management",
)
HELPERS_MAY_IMPORT = {"core", "accounts"}
# `apps.get_model` with a label that is data, not a dependency: the audit log's stored object
# types (adminpanel, on top) and the encrypted fields apps register with accounts.
GET_MODEL_ALLOWED = {"adminpanel.admin", "accounts.management.commands.rotate_encryption_key"}
ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> list[str]:
    names = [package]
    path = [str(ROOT / package)]
    for info in pkgutil.walk_packages(path, prefix=f"{package}."):
        parts = info.name.split(".")
        if "tests" in parts or "migrations" in parts:
            continue
        names.append(info.name)
    return names


ALL_MODULES = [name for package in [*LAYERS, PROJECT] for name in _modules(package)]


def _source(module: str) -> Path:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _imports(module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every absolute import in the module, nested ones too."""
    tree = ast.parse(_source(module).read_text(), filename=str(_source(module)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)]
            if "." not in node.module:  # `from dorami import realtime`: dorami.realtime
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _is_wiring(module: str) -> bool:
    return any(module == w or module.startswith(f"{w}.") for w in WIRING)


def _top(module: str) -> str:
    return module.split(".")[0]


def _violations(module: str) -> list[str]:
    app = _top(module)
    wrong = []
    for line, imported in _imports(module):
        target = _top(imported)
        if target not in RANK and target != PROJECT:
            continue
        where = f"{module}:{line} imports {imported}"
        if target == PROJECT:
            if _is_wiring(imported) and not (app == PROJECT and _is_wiring(module)):
                wrong.append(f"{where} (project wiring)")
            continue
        if app == PROJECT:
            if not _is_wiring(module) and target not in HELPERS_MAY_IMPORT:
                wrong.append(f"{where} (a project helper imports only core and accounts)")
        elif RANK[target] > RANK[app]:
            wrong.append(f"{where} ({target} is above {app})")
    return wrong


@pytest.mark.parametrize("module", ALL_MODULES)
def test_every_module_imports(module):
    importlib.import_module(module)


def test_apps_depend_one_way():
    wrong = [v for module in ALL_MODULES for v in _violations(module)]
    assert wrong == []


def test_core_uses_only_project_helpers_that_import_no_app():
    used = {i for m in _modules("core") for _l, i in _imports(m) if _top(i) == PROJECT}
    helpers = {m for m in ALL_MODULES if m in used}
    leaks = [f"{m} imports {i}" for m in helpers for _l, i in _imports(m) if _top(i) in RANK]
    assert helpers and leaks == []


def test_no_model_lookups_or_dotted_paths_around_the_layers():
    dodges = []
    for module in ALL_MODULES:
        text = _source(module).read_text()
        if "get_model(" in text and module not in GET_MODEL_ALLOWED:
            dodges.append(f"{module}: apps.get_model")
        if "import_string(" in text:
            dodges.append(f"{module}: a dotted path imported at run time")
    assert dodges == []


def test_the_checker_catches_an_upward_import(tmp_path, monkeypatch):
    """The rule can fail: a shop module importing orders is reported."""
    fake = tmp_path / "shop" / "upward.py"
    fake.parent.mkdir()
    fake.write_text("def f():\n    from orders.models import Order\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _violations("shop.upward") == [
        "shop.upward:2 imports orders.models (orders is above shop)"
    ]


def test_no_setting_names_app_code_except_what_django_and_allauth_read(settings):
    """A dotted path in settings is how a lower app would reach a higher one unseen."""
    read_by_libraries = {"AUTH_USER_MODEL", "ACCOUNT_ADAPTER", "SOCIALACCOUNT_ADAPTER"}
    named = {
        name
        for name in dir(settings)
        if name.isupper()
        and isinstance(getattr(settings, name), str)
        and _top(getattr(settings, name)) in RANK
    }
    assert named <= read_by_libraries
