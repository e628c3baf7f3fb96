"""Pages of the app. Each view module declares its own ``urlpatterns`` (its owner's file); they are joined here
under the one namespace."""

import importlib

app_name = "familydoctor"
urlpatterns: list = []
for _name in ("teams", "contracts", "fulfilment", "assessment", "coverage", "day"):
    try:
        urlpatterns += importlib.import_module(f"yigongti.familydoctor.views.{_name}").urlpatterns
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.familydoctor.views.{_name}":
            raise
