"""Pages of the county 120 command center. Each view module declares its own ``urlpatterns`` (its owner's file);
they are joined here under the one namespace."""

import importlib

app_name = "emergency"
urlpatterns: list = []
for _name in ("board", "calls", "crew", "prehospital", "alerts", "fleet", "planning", "roads"):
    try:
        urlpatterns += importlib.import_module(f"yigongti.emergency.views.{_name}").urlpatterns
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.emergency.views.{_name}":
            raise
