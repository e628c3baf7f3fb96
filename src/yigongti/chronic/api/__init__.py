"""The app's API, mounted at /api/v1/chronic: one router per area (each module declares ``router``)."""

import importlib

from ninja import Router

router = Router(tags=["chronic"])

for _name, _prefix in (
    ("patients", "/patients"),
    ("followups", "/follow-ups"),
    ("ledger", "/ledger"),
    ("medicines", "/medicines"),
):
    try:
        router.add_router(_prefix, importlib.import_module(f"yigongti.chronic.api.{_name}").router)
    except ModuleNotFoundError as e:
        if e.name != f"yigongti.chronic.api.{_name}":
            raise
