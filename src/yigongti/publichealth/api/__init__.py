"""The app's API, mounted at /api/v1/publichealth: one router per area (each module declares ``router``)."""

import importlib

from ninja import Router

router = Router(tags=["publichealth"])

for _name, _prefix in (
    ("checks", "/checks"),
    ("maternal", "/maternal"),
    ("child", "/child"),
    ("immunisation", "/immunisation"),
):
    try:
        router.add_router(_prefix, importlib.import_module(f"yigongti.publichealth.api.{_name}").router)
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.publichealth.api.{_name}":
            raise
