"""Pages of the time-critical pathways. Each view module declares its own ``urlpatterns`` (its owner's file);
they are joined here under the one namespace."""

import importlib

app_name = "pathways"
urlpatterns: list = []
for _name in ("open", "cases", "dashboards", "green_channel", "export"):
    try:
        urlpatterns += importlib.import_module(f"yigongti.pathways.views.{_name}").urlpatterns
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.pathways.views.{_name}":
            raise
