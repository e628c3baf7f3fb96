"""Pages of the shared diagnosis centers. Each view module declares its own ``urlpatterns`` (its owner's file);
they are joined here under the one namespace."""

import importlib

app_name = "telemedicine"
urlpatterns: list = []
for _name in ("orders", "worklists", "critical", "lab", "imaging", "ecg", "pathology", "consultations",
              "devices"):
    try:
        urlpatterns += importlib.import_module(f"yigongti.telemedicine.views.{_name}").urlpatterns
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.telemedicine.views.{_name}":
            raise
