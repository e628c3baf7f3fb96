"""The insurance API: one router per area, mounted at /api/v1/insurance."""

from ninja import Router

router = Router(tags=["insurance"])
