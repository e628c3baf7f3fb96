"""The check-in's position rule as a plain function: how far the phone is from the host facility, and whether
that is too far to be accepted without a flag."""

from __future__ import annotations

import math

FAR_METERS = 1000  # beyond this from the host's recorded site a check-in is flagged for the host to look at


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def is_far(distance: float | None) -> bool:
    return distance is not None and distance > FAR_METERS
