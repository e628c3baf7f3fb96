"""Pages of the app. Each view module declares its own ``urlpatterns`` (its owner's file); they are joined here
under the one namespace."""

import importlib

app_name = "chronic"
urlpatterns: list = []
for _name in ("patients", "followups", "ledger", "medicines"):
    try:
        urlpatterns += importlib.import_module(f"yigongti.chronic.views.{_name}").urlpatterns
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.chronic.views.{_name}":
            raise
