"""Pages of the app. Each view module declares its own ``urlpatterns`` (its owner's file); they are joined here
under the one namespace."""

import importlib

app_name = "publichealth"
urlpatterns: list = []
for _name in ("overview", "checks", "maternal", "child", "immunisation"):
    try:
        urlpatterns += importlib.import_module(f"yigongti.publichealth.views.{_name}").urlpatterns
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.publichealth.views.{_name}":
            raise
