"""Small geometry helpers shared by the generator, the OSM import and the routing graph (plain numpy)."""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_000.0


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres; works on floats and numpy arrays alike."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(x, dtype=float)) for x in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    d = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return float(d) if d.ndim == 0 else d


def planar(lon, lat, lat0: float) -> np.ndarray:
    """Lon/lat as an (n, 2) array of approximate metres around ``lat0`` (good enough for a county's nearest-node
    look-ups)."""
    k = 111_320.0
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return np.column_stack([lon * k * math.cos(math.radians(lat0)), lat * k])
