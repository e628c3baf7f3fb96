"""A plausible county road network generated from a seed (the demo's, and the benchmarks').

The county is a lobed disc about 48 km across (蓝山县 is about 1,800 km²) centred on its seat. Road nodes are a
jittered lattice inside it (spacing chosen so that at least ``target_nodes`` nodes fall inside); the lattice's
edges are thinned to a random spanning tree plus a share of the rest (fewer in the mountains), and then the
roads that matter are laid over it as shortest paths: a national road north–south and a provincial road
east–west through the seat, county roads from the seat to every township center and between neighbouring
townships, township roads from each township center to each of its villages, streets in the seat. Each class has
its speed; mountain townships (乡, 瑶族乡 — the county's south) are higher, their roads longer (bends) and slower.

Every township and village Region of the county gets a ``Place`` (a village on a node of its township, a
township at its center, the county at its seat) with its population; each township gets a few ``Landmark`` s
(school, market, government, bridge) that callers name. The layout is a pure function of the regions, the seed
and the target (``build_layout``); ``generate_network`` writes it (``store.write_network``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra, minimum_spanning_tree
from scipy.spatial import cKDTree

from yigongti.orgs.models import Region, RegionLevel

from ..models import RoadNetwork
from .store import LandmarkData, NetworkData, PlaceData, write_network

CENTER = (112.19, 25.35)  # 蓝山县城 (塔峰镇), near enough
RADIUS_M = 24_000.0
M_PER_DEG_LAT = 111_320.0

# km/h on the flat; mountain roads run at MOUNTAIN_SPEED of it (trunk roads at MOUNTAIN_TRUNK_SPEED)
SPEED = {"expressway": 100.0, "national": 70.0, "provincial": 60.0, "county": 50.0, "township": 40.0,
         "street": 30.0, "village": 25.0}
RANK = {"village": 0, "street": 1, "township": 2, "county": 3, "provincial": 4, "national": 5, "expressway": 6}
CLASSES = sorted(RANK, key=RANK.__getitem__)
MOUNTAIN_SPEED = 0.6
MOUNTAIN_TRUNK_SPEED = 0.75
CURVE_FLAT, CURVE_MOUNTAIN = 1.08, 1.32  # road length over straight length between neighbouring nodes
KEEP_FLAT, KEEP_MOUNTAIN = 0.3, 0.12  # share of non-tree lattice edges kept as village roads
STREET_RADIUS_M = 2_500.0


@dataclass
class VillageSpec:
    code: str
    name: str


@dataclass
class TownshipSpec:
    code: str
    name: str
    mountain: bool = False
    seat: bool = False
    villages: list[VillageSpec] = field(default_factory=list)


def is_mountain(name: str) -> bool:
    """A 乡 (the county's 瑶族乡 among them) lies in the hills; a 镇 on the plain."""
    return name.endswith("乡")


def _boundary(theta, phases) -> np.ndarray:
    return RADIUS_M * (1 + 0.12 * np.sin(2 * theta + phases[0]) + 0.08 * np.sin(3 * theta + phases[1]))


def _lattice(target: int, rng: np.random.Generator, phases) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Jittered lattice points (x, y in metres from the seat) inside the county, with their edges (a, b), largest
    connected piece only, at least ``target`` of them."""
    spacing = math.sqrt(math.pi * RADIUS_M**2 / max(target, 50))
    for _attempt in range(12):
        half = int(1.25 * RADIUS_M / spacing) + 2
        gx, gy = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1), indexing="ij")
        x, y = gx * spacing, gy * spacing
        inside = np.hypot(x, y) <= _boundary(np.arctan2(y, x), phases)
        index = np.full(gx.shape, -1, dtype=np.int64)
        index[inside] = np.arange(int(inside.sum()))
        pairs = []
        for dx, dy in ((1, 0), (0, 1)):
            a = index[: index.shape[0] - dx, : index.shape[1] - dy]
            b = index[dx:, dy:]
            ok = (a >= 0) & (b >= 0)
            pairs.append(np.column_stack([a[ok], b[ok]]))
        edges = np.vstack(pairs)
        n = int(inside.sum())
        graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
        _k, labels = connected_components(graph, directed=False)
        big = labels == np.bincount(labels).argmax()
        if big.sum() >= target:
            renumber = np.full(n, -1, dtype=np.int64)
            renumber[big] = np.arange(int(big.sum()))
            keep = big[edges[:, 0]] & big[edges[:, 1]]
            edges = renumber[edges[keep]]
            px = x[inside][big] + rng.uniform(-0.3, 0.3, int(big.sum())) * spacing
            py = y[inside][big] + rng.uniform(-0.3, 0.3, int(big.sum())) * spacing
            return px, py, edges[:, 0], edges[:, 1]
        spacing *= math.sqrt(big.sum() / target) * 0.99
    raise RuntimeError("lattice did not reach the target")  # pragma: no cover (the loop converges in 2–3 steps)


def _township_sites(townships: list[TownshipSpec], rng: np.random.Generator, phases) -> np.ndarray:
    """(x, y) of each township's center: the seat in the middle, the others on two rings, the mountain ones
    together in the south."""
    sites = np.zeros((len(townships), 2))
    others = [i for i, t in enumerate(townships) if not t.seat]
    order = [i for i in others if not townships[i].mountain] + [i for i in others if townships[i].mountain]
    n_m = sum(1 for i in others if townships[i].mountain)
    if order:
        step = 2 * math.pi / len(order)
        mid = (len(order) - n_m) + (n_m - 1) / 2 if n_m else len(order) / 2
        for k, i in enumerate(order):
            theta = -math.pi / 2 + (k - mid) * step + rng.uniform(-0.15, 0.15) * step
            ring = rng.uniform(0.38, 0.52) if k % 2 == 0 else rng.uniform(0.64, 0.8)
            r = float(_boundary(np.array(theta), phases)) * ring
            sites[i] = (r * math.cos(theta), r * math.sin(theta))
    for i, t in enumerate(townships):
        if t.seat:
            sites[i] = rng.uniform(-400, 400, 2)
    return sites


def _paths(pred: np.ndarray, src: int, targets) -> list[tuple[int, int]]:
    """Node pairs along the shortest-path tree ``pred`` (from ``src``) to each target."""
    out: list[tuple[int, int]] = []
    for t in targets:
        v = int(t)
        while v != src and v >= 0:
            u = int(pred[v])
            if u < 0:
                break
            out.append((u, v))
            v = u
    return out


class _Edges:
    """Undirected lattice edges looked up by node pair."""

    def __init__(self, a: np.ndarray, b: np.ndarray, n: int):
        self.n = n
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        self.key = lo * n + hi
        self.order = np.argsort(self.key)
        self.sorted = self.key[self.order]

    def find(self, pairs: list[tuple[int, int]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.int64)
        p = np.asarray(pairs, dtype=np.int64)
        k = np.minimum(p[:, 0], p[:, 1]) * self.n + np.maximum(p[:, 0], p[:, 1])
        return self.order[np.searchsorted(self.sorted, k)]


def build_layout(townships: list[TownshipSpec], *, seed: int, target_nodes: int = 20000,
                 county_code: str = "", county_name: str = "", populations: dict[str, int] | None = None,
                 center: tuple[float, float] = CENTER) -> NetworkData:
    """The network as arrays, a pure function of its arguments (same seed, same network)."""
    populations = populations or {}
    # separate streams: the county's shape and where its places are do not depend on the lattice's size
    shape_rng = np.random.default_rng([seed, 120, 1])
    rng = np.random.default_rng([seed, 120, 2])
    place_rng = np.random.default_rng([seed, 120, 3])
    pop_rng = np.random.default_rng([seed, 120, 4])
    phases = shape_rng.uniform(0, 2 * math.pi, 2)
    x, y, ea, eb = _lattice(target_nodes, rng, phases)
    n = len(x)
    lon0, lat0 = center
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(lat0))
    lon, lat = lon0 + x / m_per_deg_lon, lat0 + y / M_PER_DEG_LAT
    tree = cKDTree(np.column_stack([x, y]))

    if not townships:
        townships = [TownshipSpec(code=county_code, name=county_name, seat=True)]
    if not any(t.seat for t in townships):
        townships[0].seat = True
    sites = _township_sites(townships, shape_rng, phases)
    site_node = tree.query(sites)[1].astype(np.int64)
    seat = next(i for i, t in enumerate(townships) if t.seat)
    seat_node = int(site_node[seat])
    owner = cKDTree(sites).query(np.column_stack([x, y]))[1]  # each node's township
    mountain_t = np.array([t.mountain for t in townships])
    mountain = mountain_t[owner]
    elevation = np.where(mountain, 550.0 + 500.0 * np.hypot(x, y) / RADIUS_M, 230.0) + rng.uniform(-40, 80, n)

    # edge geometry
    m_edge = mountain[ea] | mountain[eb]
    straight = np.hypot(x[ea] - x[eb], y[ea] - y[eb])
    length = straight * np.where(m_edge, CURVE_MOUNTAIN, CURVE_FLAT) * rng.uniform(0.97, 1.06, len(ea))
    cost = length * rng.uniform(0.7, 1.3, len(ea)) * np.where(m_edge, 1.6, 1.0)
    rank = np.zeros(len(ea), dtype=np.int64)
    names = np.array([""] * len(ea), dtype=object)
    edges = _Edges(ea, eb, n)

    def graph(weights: np.ndarray):
        return coo_matrix((weights, (ea, eb)), shape=(n, n)).tocsr()

    def upgrade(pairs: list[tuple[int, int]], cls: str, name: str) -> None:
        idx = edges.find(pairs)
        better = rank[idx] < RANK[cls]
        rank[idx[better]] = RANK[cls]
        names[idx[better]] = name

    # trunk roads through the seat, boundary to boundary
    ends = []
    for theta in (math.pi / 2, -math.pi / 2, 0.0, math.pi):
        theta += shape_rng.uniform(-0.25, 0.25)
        r = float(_boundary(np.array(theta), phases)) * 0.97
        ends.append(int(tree.query([r * math.cos(theta), r * math.sin(theta)])[1]))
    _d, pred = dijkstra(graph(cost), directed=False, indices=seat_node, return_predecessors=True)
    upgrade(_paths(pred, seat_node, ends[:2]), "national", "G240")
    upgrade(_paths(pred, seat_node, ends[2:]), "provincial", "S325")

    # county roads: seat to every township, and between townships neighbouring on their spanning tree
    cost = cost * np.where(rank > 0, 0.4, 1.0)
    _d, preds = dijkstra(graph(cost), directed=False, indices=site_node, return_predecessors=True)
    preds = np.atleast_2d(preds)
    for i in range(len(townships)):
        if i != seat:
            upgrade(_paths(preds[seat], seat_node, [site_node[i]]), "county", f"X{101 + i:03d}")
    if len(townships) > 2:
        d_sites = np.hypot(*(sites[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
        mst = minimum_spanning_tree(d_sites).tocoo()
        for k, (i, j) in enumerate(zip(mst.row, mst.col, strict=True)):
            upgrade(_paths(preds[i], int(site_node[i]), [site_node[j]]), "county", f"X{201 + k:03d}")

    # villages: points of their township 1.2–8 km from its center, at least 900 m apart (drawn from the shape's
    # own stream, so that they stay put whatever the target), each on its nearest node
    cost = cost * np.where(rank > 0, 0.5, 1.0)
    places: list[PlaceData] = []
    village_xy: dict[int, list[tuple[float, float]]] = {}
    site_tree = cKDTree(sites)
    for i, t in enumerate(townships):
        picked: list[tuple[float, float]] = []
        for min_sep in (900.0, 500.0, 0.0):
            tries = 0
            while len(picked) < len(t.villages) and tries < 400:
                tries += 1
                r, theta = place_rng.uniform(1200, 8000), place_rng.uniform(0, 2 * math.pi)
                px, py = sites[i, 0] + r * math.cos(theta), sites[i, 1] + r * math.sin(theta)
                if int(site_tree.query([px, py])[1]) != i and min_sep > 0:
                    continue
                if math.hypot(px, py) > float(_boundary(np.array(math.atan2(py, px)), phases)) * 0.97:
                    continue
                if all(math.hypot(px - u, py - v) >= min_sep for u, v in picked):
                    picked.append((px, py))
            if len(picked) == len(t.villages):
                break
        while len(picked) < len(t.villages):  # a township squeezed at the border: around its center
            picked.append((sites[i, 0] + place_rng.uniform(-600, 600), sites[i, 1] + place_rng.uniform(-600, 600)))
        village_xy[i] = picked
    village_nodes = {i: [int(k) for k in tree.query(np.array(xy).reshape(-1, 2))[1]] if xy else []
                     for i, xy in village_xy.items()}

    _d, preds = dijkstra(graph(cost), directed=False, indices=site_node, return_predecessors=True)
    preds = np.atleast_2d(preds)
    for i in range(len(townships)):
        upgrade(_paths(preds[i], int(site_node[i]), village_nodes[i]), "township", f"Y{101 + i:03d}")
    near_seat = np.hypot(x - sites[seat, 0], y - sites[seat, 1]) <= STREET_RADIUS_M
    street = near_seat[ea] & near_seat[eb] & (rank < RANK["street"])
    rank[street] = RANK["street"]

    # thin the lattice: a random spanning tree (everything stays reachable), the roads above, a share of the rest
    tree_edges = minimum_spanning_tree(graph(rng.uniform(1, 2, len(ea)))).tocoo()
    keep = np.zeros(len(ea), dtype=bool)
    keep[edges.find(list(zip(tree_edges.row.tolist(), tree_edges.col.tolist(), strict=True)))] = True
    keep |= rank > 0
    keep |= rng.uniform(0, 1, len(ea)) < np.where(m_edge, KEEP_MOUNTAIN, KEEP_FLAT)

    classes = [CLASSES[r] for r in rank[keep]]
    base = np.array([SPEED[c] for c in classes])
    trunk = rank[keep] >= RANK["provincial"]
    slow = np.where(m_edge[keep], np.where(trunk, MOUNTAIN_TRUNK_SPEED, MOUNTAIN_SPEED), 1.0)
    speed = base * slow * rng.uniform(0.9, 1.08, int(keep.sum()))

    # places: villages, townships, the county; populations given or plausible
    for i, t in enumerate(townships):
        total = 0
        for v_spec, node, (px, py) in zip(t.villages, village_nodes[i], village_xy[i], strict=False):
            pop = populations.get(v_spec.code)
            if pop is None:
                pop = int(pop_rng.integers(500, 2000) if t.mountain else pop_rng.integers(900, 3600))
            total += pop
            places.append(PlaceData(v_spec.code, node, lon0 + px / m_per_deg_lon, lat0 + py / M_PER_DEG_LAT, pop,
                                    float(elevation[node])))
        if t.code != county_code:
            node = int(site_node[i])
            places.append(PlaceData(t.code, node, lon0 + sites[i, 0] / m_per_deg_lon,
                                    lat0 + sites[i, 1] / M_PER_DEG_LAT, populations.get(t.code, total),
                                    float(elevation[node])))
    if county_code:
        county_total = populations.get(county_code, sum(p.population for p in places
                                                        if p.code in {t.code for t in townships}))
        places.append(PlaceData(county_code, seat_node, lon0 + sites[seat, 0] / m_per_deg_lon,
                                lat0 + sites[seat, 1] / M_PER_DEG_LAT, county_total, float(elevation[seat_node])))

    landmarks = _landmarks(townships, sites, tree, lon, lat, place_rng, county_name, county_code,
                           lon0, lat0, m_per_deg_lon)
    return NetworkData(lon=lon, lat=lat, ext_id=np.arange(n, dtype=np.int64), edge_a=ea[keep], edge_b=eb[keep],
                       edge_class=classes, edge_length_m=length[keep], edge_speed_kmh=speed,
                       edge_name=[str(s) for s in names[keep]], edge_oneway=np.zeros(int(keep.sum()), dtype=bool),
                       places=places, landmarks=landmarks)


def short_name(name: str) -> str:
    for suffix in ("瑶族乡", "民族乡", "镇", "乡", "街道"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _landmarks(townships, sites, tree, lon, lat, rng, county_name: str, county_code: str, lon0: float, lat0: float,
               m_per_deg_lon: float) -> list[LandmarkData]:
    out: list[LandmarkData] = []

    def put(name: str, code: str, i: int, spread: float) -> None:
        px, py = sites[i] + rng.uniform(-spread, spread, 2)
        node = int(tree.query([px, py])[1])
        out.append(LandmarkData(name, code, node, lon0 + px / m_per_deg_lon, lat0 + py / M_PER_DEG_LAT))

    for i, t in enumerate(townships):
        s = short_name(t.name)
        for what in ("中学", "中心小学", "集市", "人民政府", "大桥"):
            put(f"{s}{what}", t.code, i, 1500.0)
        if t.seat and county_name:
            stem = short_name(county_name.removesuffix("县"))
            for what in ("汽车站", "第一中学", "火车站", "工业园"):
                put(f"{stem}{what}", t.code or county_code, i, 2500.0)
            put(f"{county_name}人民广场", t.code or county_code, i, 600.0)
    return out


def county_townships(county: Region) -> list[TownshipSpec]:
    """The county's townships and their villages, in code order; the seat is the first 镇 (code 100…) or the
    first township."""
    rows = list(Region.objects.filter(code__startswith=county.prefix, level__in=[RegionLevel.TOWNSHIP,
                                                                                 RegionLevel.VILLAGE])
                .order_by("code").values_list("code", "name", "level", "parent__code"))
    townships = {c: TownshipSpec(c, nm, mountain=is_mountain(nm)) for c, nm, lv, _p in rows
                 if lv == RegionLevel.TOWNSHIP}
    orphans = TownshipSpec(county.code, county.name, seat=not townships)
    for c, nm, lv, parent in rows:
        if lv == RegionLevel.VILLAGE:
            townships.get(parent, orphans).villages.append(VillageSpec(c, nm))
    out = list(townships.values())
    towns = [t for t in out if not t.mountain]
    (towns or out or [orphans])[0].seat = True
    if orphans.villages or not out:
        out.append(orphans)
    return out


def generate_network(county: Region, *, seed: int, target_nodes: int = 20000,
                     populations: dict[str, int] | None = None) -> RoadNetwork:
    """Generate and store the county's road network (deterministic from ``seed``); it becomes the active one."""
    specs = county_townships(county)
    data = build_layout(specs, seed=seed, target_nodes=target_nodes, county_code=county.code,
                        county_name=county.name, populations=populations)
    return write_network(data, county=county, name=f"{county.name}路网（生成）", source="generated", seed=seed)

