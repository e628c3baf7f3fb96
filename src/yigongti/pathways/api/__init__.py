"""The pathways' API, mounted at /api/v1/pathways: one router per area (each module declares ``router``)."""

import importlib

from ninja import Router

router = Router(tags=["pathways"])

for _name, _prefix in (("cases", "/cases"), ("dashboards", "/dashboards"), ("green_channel", "/green-channel"),
                       ("export", "/export")):
    try:
        router.add_router(_prefix, importlib.import_module(f"yigongti.pathways.api.{_name}").router)
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.pathways.api.{_name}":
            raise
