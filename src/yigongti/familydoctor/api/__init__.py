"""The app's API, mounted at /api/v1/familydoctor: one router per area (each module declares ``router``)."""

import importlib

from ninja import Router

router = Router(tags=["familydoctor"])

for _name, _prefix in (
    ("teams", "/teams"),
    ("contracts", "/contracts"),
    ("fulfilment", "/fulfilment"),
    ("assessment", "/assessment"),
    ("coverage", "/coverage"),
    ("due", "/due"),
):
    try:
        router.add_router(_prefix, importlib.import_module(f"yigongti.familydoctor.api.{_name}").router)
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.familydoctor.api.{_name}":
            raise
