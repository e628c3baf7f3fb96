"""The shared diagnosis centers' API, mounted at /api/v1/telemedicine: one router per area (each module
declares ``router``); DICOMweb stays Orthanc's."""

import importlib

from ninja import Router

router = Router(tags=["telemedicine"])

for _name, _prefix in (("orders", "/orders"), ("critical", "/critical"), ("lab", "/lab"),
                       ("imaging", "/imaging"), ("ecg", "/ecg"), ("pathology", "/pathology"),
                       ("consultations", "/consultations"), ("devices", "/devices")):
    try:
        router.add_router(_prefix, importlib.import_module(f"yigongti.telemedicine.api.{_name}").router)
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.telemedicine.api.{_name}":
            raise
