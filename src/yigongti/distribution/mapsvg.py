"""The route page's map: the county's main roads (``emergency.roads``, as we generated or imported them — nothing
is fetched from outside) and the day's routes over them, as SVG path data in a fixed box."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from yigongti.emergency.models import RoadEdge, RoadNetwork

W, H = 800, 600
MAIN = ("expressway", "national", "provincial", "county")


@dataclass
class Frame:
    bbox: list[float]  # min_lon, min_lat, max_lon, max_lat

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox
        sx = W / max(x1 - x0, 1e-9)
        sy = H / max(y1 - y0, 1e-9)
        s = min(sx, sy)
        return round((lon - x0) * s, 1), round(H - (lat - y0) * s, 1)

    def path(self, points) -> str:
        pts = [self.xy(lon, lat) for lon, lat in points]
        return "M" + " L".join(f"{x},{y}" for x, y in pts) if pts else ""


def frame(network: RoadNetwork) -> Frame:
    bbox = list(network.bbox or [])
    if len(bbox) != 4:
        nodes = network.nodes.values_list("lon", "lat")
        lons, lats = zip(*nodes, strict=True) if nodes else ((0.0,), (0.0,))
        bbox = [min(lons), min(lats), max(lons), max(lats)]
    return Frame(bbox)


def roads_path(network: RoadNetwork) -> str:
    """One SVG path of the main roads (cached per network version)."""
    key = f"dist:roads:{network.pk}:{network.version}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    f = frame(network)
    rows = RoadEdge.objects.filter(network=network, road_class__in=MAIN).values_list(
        "source__lon", "source__lat", "target__lon", "target__lat")
    parts = []
    for a, b, c, d in rows.iterator(chunk_size=5000):
        (x1, y1), (x2, y2) = f.xy(a, b), f.xy(c, d)
        parts.append(f"M{x1},{y1}L{x2},{y2}")
    out = "".join(parts)
    cache.set(key, out, 3600)
    return out
