"""``core`` imports no app: the apps fill its registries at start-up (the side menu, API token authentication)."""

import ast
from pathlib import Path

import yigongti.core
from yigongti.core import api_support, menu

APPS = {"orgs", "residents", "encounters", "referrals", "indicators", "demo", "interop", "telemedicine"}


def test_the_core_package_imports_no_app():
    offenders = []
    for path in Path(yigongti.core.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "yigongti" and len(parts) > 1 and parts[1] in APPS:
                    offenders.append(f"{path.name}: {name}")
    assert not offenders


def test_the_apps_register_their_menu_entries_and_the_token_authenticator():
    from yigongti.orgs.services import user_for_token

    assert user_for_token in api_support.TOKEN_AUTHENTICATORS
    assert {"home", "orgs:tree", "residents:list", "residents:imports", "referrals:list", "indicators:dashboard",
            "audit:log"} <= set(menu.ENTRIES)


def test_the_menu_shows_each_role_what_it_may_open(cast, login):
    village = login(cast.village_doctor).get("/").content.decode()
    assert "/referrals/" in village and "/residents/imports/" not in village and "/audit/" not in village
    manager = login(cast.manager).get("/").content.decode()
    assert "/residents/imports/" in manager and "/referrals/stats/" in manager
    auditor = login(cast.auditor).get("/").content.decode()
    assert "/audit/" in auditor and 'href="/residents/"' not in auditor
