"""The routing graph of the active road network, kept in memory per process.

``road_graph()`` answers from a module cache keyed by the network's id and ``version`` (one small query per call
to learn the active network; the graph reloads only when the network was rebuilt or re-imported). Travel times
are seconds: an edge takes ``length_m / speed``; a two-way edge (``oneway`` false) runs both ways; a pair stored
in both directions keeps the faster.

Routing is ``scipy.sparse.csgraph.dijkstra`` over CSR matrices (forward and reversed), chosen over networkx by
measurement (bench/em_recommend.py: one single-source run on 20,000 nodes takes a few milliseconds, where
networkx's pure-Python Dijkstra takes tens). ``times_to(incident)`` — one run on the reversed graph — gives
every vehicle's ETA to the incident at once."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from yigongti.core.errors import InvalidInput

from ..models import RoadEdge, RoadNetwork, RoadNode
from .geometry import haversine_m, planar


class NodeTimes(Mapping[int, float]):
    """Seconds to (or from) every node, looked up by RoadNode id like a dict (``inf`` where no road joins);
    ``.array`` is aligned with ``RoadGraph.node_ids``."""

    def __init__(self, graph: RoadGraph, seconds: np.ndarray, predecessors: np.ndarray | None = None):
        self.graph = graph
        self.array = seconds
        self.predecessors = predecessors

    def __getitem__(self, node_id: int) -> float:
        return float(self.array[self.graph.index(node_id)])

    def __iter__(self) -> Iterator[int]:
        return iter(self.graph.node_ids.tolist())

    def __len__(self) -> int:
        return len(self.array)

    def take(self, node_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.array[self.graph.indices(node_ids)]


class RoadGraph:
    """One network's nodes and edges as arrays (index ``i`` ↔ ``node_ids[i]``)."""

    def __init__(self, network_id: int, version: str, node_ids: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                 src: np.ndarray, dst: np.ndarray, seconds: np.ndarray, length_m: np.ndarray):
        self.network_id = network_id
        self.version = version
        order = np.argsort(node_ids)
        self.node_ids = np.asarray(node_ids, dtype=np.int64)[order]
        self.lon = np.asarray(lon, dtype=float)[order]
        self.lat = np.asarray(lat, dtype=float)[order]
        n = len(self.node_ids)
        self._lat0 = float(np.mean(self.lat)) if n else 0.0
        self._tree = cKDTree(planar(self.lon, self.lat, self._lat0)) if n else None
        a, b = self.indices(src), self.indices(dst)
        # keep the fastest of parallel edges (a pair stored both ways, or twice)
        key = a * max(n, 1) + b
        pick = np.lexsort((seconds, key))
        first = np.ones(len(pick), dtype=bool)
        first[1:] = key[pick][1:] != key[pick][:-1]
        pick = pick[first]
        a, b, sec, ln = a[pick], b[pick], np.maximum(seconds[pick], 1e-3), length_m[pick]
        self.edge_count = len(a)
        self._fwd = csr_matrix((sec, (a, b)), shape=(n, n))
        self._rev = csr_matrix((sec, (b, a)), shape=(n, n))
        self._length = dict(zip((a * max(n, 1) + b).tolist(), ln.tolist(), strict=True))

    # ------------------------------------------------------------------------------------------ nodes
    def __len__(self) -> int:
        return len(self.node_ids)

    def has(self, node_id: int | None) -> bool:
        if node_id is None or not len(self.node_ids):
            return False
        i = int(np.searchsorted(self.node_ids, node_id))
        return i < len(self.node_ids) and int(self.node_ids[i]) == int(node_id)

    def index(self, node_id: int) -> int:
        i = int(np.searchsorted(self.node_ids, node_id))
        if i >= len(self.node_ids) or int(self.node_ids[i]) != int(node_id):
            raise KeyError(node_id)
        return i

    def indices(self, node_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        ids = np.asarray(node_ids, dtype=np.int64)
        i = np.searchsorted(self.node_ids, ids)
        bad = (i >= len(self.node_ids)) | (self.node_ids[np.minimum(i, len(self.node_ids) - 1)] != ids)
        if bad.any():
            raise KeyError(ids[bad][:5].tolist())
        return i

    def lonlat(self, node_id: int) -> tuple[float, float]:
        i = self.index(node_id)
        return float(self.lon[i]), float(self.lat[i])

    def nearest(self, lon: float, lat: float) -> int:
        """The RoadNode id nearest to a point."""
        if self._tree is None:
            raise InvalidInput("no_roads", "路网没有节点")
        _d, i = self._tree.query(planar([lon], [lat], self._lat0)[0])
        return int(self.node_ids[int(i)])

    def nearest_many(self, lon: Iterable[float], lat: Iterable[float]) -> np.ndarray:
        if self._tree is None:
            raise InvalidInput("no_roads", "路网没有节点")
        _d, i = self._tree.query(planar(list(lon), list(lat), self._lat0))
        return self.node_ids[np.asarray(i, dtype=np.int64)]

    # ---------------------------------------------------------------------------------------- routing
    def times_from(self, node_id: int, *, predecessors: bool = False) -> NodeTimes:
        """Seconds from ``node_id`` to every node (one Dijkstra)."""
        return self._run(self._fwd, node_id, predecessors)

    def times_to(self, node_id: int, *, predecessors: bool = False) -> NodeTimes:
        """Seconds from every node to ``node_id`` (one Dijkstra on the reversed graph): all vehicles' ETAs to an
        incident at once. With ``predecessors``, ``.predecessors[i]`` is the next node index from ``i`` towards
        the target."""
        return self._run(self._rev, node_id, predecessors)

    def _run(self, matrix: csr_matrix, node_id: int, predecessors: bool) -> NodeTimes:
        i = self.index(node_id)
        if predecessors:
            dist, pred = dijkstra(matrix, directed=True, indices=i, return_predecessors=True)
            return NodeTimes(self, dist, pred)
        return NodeTimes(self, dijkstra(matrix, directed=True, indices=i))

    def time_matrix(self, from_nodes: Sequence[int], to_nodes: Sequence[int]) -> np.ndarray:
        """``m[i, j]``: seconds from ``from_nodes[i]`` to ``to_nodes[j]`` (one Dijkstra per source)."""
        if not len(from_nodes):
            return np.zeros((0, len(to_nodes)))
        dist = dijkstra(self._fwd, directed=True, indices=self.indices(from_nodes))
        return np.atleast_2d(dist)[:, self.indices(to_nodes)]

    def eta_s(self, from_node: int, to_node: int) -> float:
        return float(self.times_from(from_node).array[self.index(to_node)])

    def route_indices(self, from_node: int, to_node: int) -> list[int]:
        """Node indices of the fastest route (empty when none)."""
        start, goal = self.index(from_node), self.index(to_node)
        times = self.times_to(to_node, predecessors=True)
        return self.path_to_target(times, start) if start != goal else [start]

    def path_to_target(self, times: NodeTimes, start: int) -> list[int]:
        """Walk a ``times_to(..., predecessors=True)`` tree from node index ``start`` to its target."""
        assert times.predecessors is not None
        if not np.isfinite(times.array[start]):
            return []
        path = [start]
        pred = times.predecessors
        while pred[path[-1]] >= 0:
            path.append(int(pred[path[-1]]))
        return path

    def path_length_m(self, path: list[int]) -> float:
        n = max(len(self.node_ids), 1)
        return float(sum(self._length.get(u * n + v, 0.0) for u, v in itertools.pairwise(path)))

    def route(self, from_node: int, to_node: int) -> list[tuple[float, float]]:
        """The fastest route as (lon, lat) points."""
        return [(float(self.lon[i]), float(self.lat[i])) for i in self.route_indices(from_node, to_node)]

    def straight_m(self, lon1: float, lat1: float, lon2: float, lat2: float) -> float:
        return float(haversine_m(lon1, lat1, lon2, lat2))


def load_graph(network: RoadNetwork | int) -> RoadGraph:
    net_id = network if isinstance(network, int) else network.pk
    version = RoadNetwork.objects.filter(pk=net_id).values_list("version", flat=True).first()
    if version is None:
        raise InvalidInput("no_network", "路网不存在")
    nodes = np.array(list(RoadNode.objects.filter(network_id=net_id).values_list("pk", "lon", "lat")),
                     dtype=float).reshape(-1, 3)
    edges = np.array(list(RoadEdge.objects.filter(network_id=net_id)
                          .values_list("source_id", "target_id", "length_m", "speed_kmh", "oneway")),
                     dtype=float).reshape(-1, 5)
    src, dst = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64)
    length = edges[:, 2]
    seconds = length / (np.maximum(edges[:, 3], 1.0) / 3.6)
    two_way = edges[:, 4] == 0
    return RoadGraph(net_id, version, nodes[:, 0].astype(np.int64), nodes[:, 1], nodes[:, 2],
                     np.concatenate([src, dst[two_way]]), np.concatenate([dst, src[two_way]]),
                     np.concatenate([seconds, seconds[two_way]]), np.concatenate([length, length[two_way]]))


_cache: dict[int, RoadGraph] = {}
_lock = threading.Lock()
MAX_CACHED = 3


def active_network() -> RoadNetwork | None:
    return RoadNetwork.objects.filter(active=True).order_by("-created_at", "-pk").first()


def road_graph(network: RoadNetwork | int | None = None) -> RoadGraph:
    """The routing graph of ``network`` (default: the newest active one), from this process's cache."""
    if network is None:
        row = RoadNetwork.objects.filter(active=True).order_by("-created_at", "-pk").values_list("pk", "version") \
            .first()
    else:
        net_id = network if isinstance(network, int) else network.pk
        row = RoadNetwork.objects.filter(pk=net_id).values_list("pk", "version").first()
    if row is None:
        raise InvalidInput("no_network", "尚未生成或导入路网：请先运行 yigongti emergency roads generate 或 import")
    net_id, version = row
    graph = _cache.get(net_id)
    if graph is not None and graph.version == version:
        return graph
    with _lock:
        graph = _cache.get(net_id)
        if graph is None or graph.version != version:
            graph = load_graph(net_id)
            if len(_cache) >= MAX_CACHED:
                _cache.pop(next(iter(_cache)))
            _cache[net_id] = graph
    return graph


def clear_cache() -> None:
    with _lock:
        _cache.clear()
