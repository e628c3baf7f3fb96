"""The 120 command center's API, mounted at /api/v1/emergency: one router per area (each module declares
``router``)."""

import importlib

from ninja import Router

router = Router(tags=["emergency"])

for _name, _prefix in (("calls", "/calls"), ("vehicles", "/vehicles"), ("missions", "/missions"),
                       ("alerts", "/alerts"), ("prehospital", "/prehospital"), ("fleet", "/fleet"),
                       ("planning", "/planning"), ("roads", "/roads")):
    try:
        router.add_router(_prefix, importlib.import_module(f"yigongti.emergency.api.{_name}").router)
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.emergency.api.{_name}":
            raise
