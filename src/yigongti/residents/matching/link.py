"""Batch linking (table → person ids) and single-record scoring for registration search.

Pipeline: prepare features → candidate pairs (blocking) → comparison levels → EM → match
weights → guards → clustering. The guards encode what the probabilistic model cannot know from
independent fields: relatives share household, address, phone and sometimes an ID number, so
agreement on those must never make up for a different name or birth date.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .blocking import candidate_pairs
from .compare import FIELD_LEVELS, FIELDS, NULL, Features, compare_all, prepare
from .model import Params, default_params, estimate_em, flat_u, level_shares, match_weights, probability

RANDOM_PAIRS = 500_000

# column positions in the levels matrix
NAME, DATE, ID, SEX, CONTEXT = range(5)


def identity_guard(levels: np.ndarray) -> np.ndarray:
    """Pairs allowed to link at all, whatever their weight.

    * The names must sound alike or differ only by a look-alike, swapped or dropped character,
      unless both records carry the same ID number consistent with their own birth date and sex
      (twins and siblings differ in name; a typist rarely invents a new given name).
    * The birth dates must be close (not "different"), again unless the ID settles it: a child
      registered under a parent's ID has the same number but another name and birth date.
    * Two different valid, self-consistent ID numbers are two people.
    * Without a usable name on either side only the ID number can link (exact or one typo).
    """
    name, date, idl = levels[:, NAME], levels[:, DATE], levels[:, ID]
    id_settles = idl == 0
    ok_name = np.where(name == NULL, (idl == 0) | (idl == 1) | (idl == 3), (name <= 5) | id_settles)
    ok_date = (date != 6) | id_settles
    ok_id = idl != 4
    return ok_name & ok_date & ok_id


@dataclass
class LinkResult:
    person_index: np.ndarray  # cluster label per record (0..k-1)
    match_score: np.ndarray  # best link probability of the record inside its cluster (nan: alone)
    best_other: np.ndarray  # record index of that best link (-1 when alone)
    best_levels: np.ndarray  # (n, fields) levels of that link
    params: Params
    stats: dict[str, Any] = field(default_factory=dict)
    features: Features | None = None


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components by vectorised min-label propagation (clusters are tiny and shallow)."""
    label = np.arange(n, dtype=np.int64)
    while True:
        lo = np.minimum(label[left], label[right])
        new = label.copy()
        np.minimum.at(new, left, lo)
        np.minimum.at(new, right, lo)
        new = new[new]  # pointer jumping
        if np.array_equal(new, label):
            return label
        label = new


def cannot_link(levels: np.ndarray) -> np.ndarray:
    """Candidate pairs that are certainly two people: clearly different birth dates or two
    different confirmed ID numbers (unless the same confirmed ID settles it). Clustering keeps
    such records apart even when a chain of weaker links (a namesake without a birth date, say)
    would connect them."""
    return ((levels[:, DATE] == 6) | (levels[:, ID] == 4)) & (levels[:, ID] != 0)


def _cluster(f: Features, left: np.ndarray, right: np.ndarray, weight: np.ndarray,
             no_left: np.ndarray, no_right: np.ndarray) -> np.ndarray:
    """Union-find over accepted links, strongest first, refusing merges that would put two
    confirmed ID numbers, or two records of a cannot-link pair, into one person.

    Components are first found without these checks (fast, vectorised); only components that
    break a rule — a chain of weak links between twins, or parent and child — are redone
    greedily. "Confirmed" means valid and matching the record's own birth date (and sex), so a
    child registered under a parent's number does not count.
    """
    label = _components(f.n, left, right)
    conf_key = np.where(f.id_checked, f.ids.digits[:, :17].astype(np.int64) @ (10 ** np.arange(16, -1, -1)), -1)
    has = conf_key >= 0
    if has.any():
        pairs = np.unique(np.stack([label[has], conf_key[has]], axis=1), axis=0)
    else:
        pairs = np.zeros((0, 2), np.int64)
    comp, cnt = np.unique(pairs[:, 0], return_counts=True)
    bad = set(comp[cnt > 1].tolist())
    inside = label[no_left] == label[no_right]
    bad.update(label[no_left[inside]].tolist())
    if not bad:
        return label
    bad_arr = np.fromiter(bad, dtype=np.int64)
    members = np.flatnonzero(np.isin(label, bad_arr))
    parent = {int(i): int(i) for i in members}
    ids: dict[int, set[int]] = {i: {int(conf_key[i])} for i in parent if conf_key[i] >= 0}
    group: dict[int, list[int]] = {i: [i] for i in parent}
    forbid: dict[int, set[int]] = {}
    sel = np.isin(label[no_left], bad_arr)
    for a, b in zip(no_left[sel].tolist(), no_right[sel].tolist(), strict=True):
        forbid.setdefault(a, set()).add(b)
        forbid.setdefault(b, set()).add(a)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    in_bad = np.isin(label[left], bad_arr)
    order = np.flatnonzero(in_bad)[np.argsort(-weight[in_bad], kind="stable")]
    for e in order.tolist():
        ra, rb = find(int(left[e])), find(int(right[e]))
        if ra == rb:
            continue
        ia, ib = ids.get(ra, set()), ids.get(rb, set())
        if ia and ib and ia != ib:
            continue
        fa = forbid.get(ra, set())
        if fa and any(m in fa for m in group[rb]):
            continue
        if len(group[ra]) < len(group[rb]):
            ra, rb = rb, ra
        parent[rb] = ra
        group[ra].extend(group.pop(rb))
        ids[ra] = ia | ib
        if rb in forbid:
            forbid.setdefault(ra, set()).update(forbid.pop(rb))
    out = label.copy()
    for i in parent:
        out[i] = find(i)
    return out


def link_features(
    f: Features,
    params: Params | None = None,
    estimate: bool = True,
    progress: Callable[[str], None] | None = None,
) -> LinkResult:
    """Link prepared records; returns cluster labels and the best link of every record."""
    say = progress or (lambda _msg: None)
    stats: dict[str, Any] = {}
    t0 = time.perf_counter()
    params = params or default_params()
    left, right = candidate_pairs(f)
    stats["candidate_pairs"] = len(left)
    say(f"候选记录对 {len(left):,} 个（{time.perf_counter() - t0:.1f}s）")
    levels = compare_all(f, left, right)
    if estimate and len(left) >= 1000 and f.n >= 1000:
        params = estimate_params(f, levels, params)
        say(f"参数估计完成（EM 与随机记录对）：λ={params.lam:.2e}")
    share = _name_share(f, left, right)
    weight = match_weights(params, levels, share)
    accept = (weight >= params.threshold) & identity_guard(levels)
    stats["links"] = int(accept.sum())
    al, ar, aw = left[accept], right[accept], weight[accept]
    no = cannot_link(levels)
    label = _cluster(f, al, ar, aw, left[no], right[no])
    # keep only links that ended inside one cluster, then each record's strongest such link
    inside = label[al] == label[ar]
    al, ar, aw, alev = al[inside], ar[inside], aw[inside], levels[accept][inside]
    ends = np.concatenate([al, ar])
    others = np.concatenate([ar, al])
    ws = np.concatenate([aw, aw])
    order = np.lexsort((-ws, ends))
    ends, others, ws = ends[order], others[order], ws[order]
    first = np.ones(len(ends), dtype=bool)
    first[1:] = ends[1:] != ends[:-1]
    best_other = np.full(f.n, -1, dtype=np.int64)
    best_w = np.full(f.n, np.nan)
    best_edge = np.full(f.n, -1, dtype=np.int64)
    best_other[ends[first]] = others[first]
    best_w[ends[first]] = ws[first]
    best_edge[ends[first]] = np.concatenate([np.arange(len(al)), np.arange(len(al))])[order][first]
    best_levels = np.full((f.n, len(FIELDS)), NULL, dtype=np.int8)
    has = best_edge >= 0
    best_levels[has] = alev[best_edge[has]]
    _, person_index = np.unique(label, return_inverse=True)
    stats["persons"] = int(person_index.max() + 1) if f.n else 0
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    return LinkResult(person_index, np.where(has, probability(best_w), np.nan), best_other, best_levels, params, stats,
                      f)


def random_pairs(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, k)
    b = rng.integers(0, n, k)
    keep = a != b
    return a[keep], b[keep]


def estimate_params(f: Features, levels: np.ndarray, start: Params) -> Params:
    """m by EM over candidate pairs; u, λ and the name-frequency baseline from the data.

    λ (share of all record pairs that match) = EM's expected number of matching candidate pairs
    divided by all n(n-1)/2 pairs: blocking keeps nearly every true pair.
    """
    em = estimate_em(levels, Params(0.5, start.m, flat_u()))
    a, b = random_pairs(f.n, RANDOM_PAIRS)
    u = level_shares(compare_all(f, a, b))
    expected_matches = em.lam * len(levels)
    lam = float(np.clip(expected_matches / (f.n * (f.n - 1) / 2), 1e-12, 0.5))
    return Params(lam, em.m, u, start.threshold, name_key_share(f), start.common_names)


def fit_default_params(records: pa.Table, top_names: int = 400) -> Params:
    """Parameters from records with a ``true_person_id`` column (``synth`` output): m counted on
    the true matches among candidate pairs, u on random pairs, λ from the truth. This is how the
    shipped ``default_params.json`` is made; EM then refines m on each real data set."""
    from .names import fold_syllable, name_syllables

    f = prepare(records)
    left, right = candidate_pairs(f)
    levels = compare_all(f, left, right)
    truth = records.column("true_person_id").to_numpy()
    m = level_shares(levels[truth[left] == truth[right]])
    a, b = random_pairs(f.n, RANDOM_PAIRS)
    u = level_shares(compare_all(f, a, b))
    _, sizes = np.unique(truth, return_counts=True)
    lam = float((sizes * (sizes - 1) / 2).sum() / (f.n * (f.n - 1) / 2))
    # the most common folded name keys, for name-frequency weighting in ``score_candidates``
    t = f.names
    present = f.name_idx[f.name_idx >= 0]
    per_key = np.bincount(t.fold_key[present])
    example = {int(k): name for k, name in zip(t.fold_key, t.names, strict=True)}
    common = {}
    for k in np.argsort(-per_key)[:top_names].tolist():
        if per_key[k] > 0:
            key = " ".join(fold_syllable(s) for s in name_syllables(example[k]))
            common[key] = round(float(per_key[k] / len(present)), 7)
    return Params(lam, m, u, 0.0, name_key_share(f), common)


def name_key_share(f: Features) -> float:
    """P(two random records share a folded name key) = Σ share², the TF baseline."""
    t = f.names
    present = f.name_idx[f.name_idx >= 0]
    if len(present) == 0:
        return 1e-4
    per_key = np.bincount(t.fold_key[present])
    share = per_key[per_key > 0] / len(present)
    return float((share**2).sum())


def _name_share(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Share of records with the more common of the two names' pinyin keys."""
    t = f.names
    a = np.where(f.name_idx[left] >= 0, f.name_idx[left], 0)
    b = np.where(f.name_idx[right] >= 0, f.name_idx[right], 0)
    count = np.maximum(t.fold_count[a], t.fold_count[b]) if len(t.names) else np.zeros(len(left))
    return count / max(f.n, 1)


def explain_levels(levels: np.ndarray, params: Params | None = None) -> tuple[list[str], list[str]]:
    """Chinese reasons for and against a match from one pair's comparison levels."""
    w = (params or default_params()).weights()
    pro: list[str] = []
    con: list[str] = []
    for j, name in enumerate(FIELDS):
        lev = int(levels[j])
        if lev == NULL:
            continue
        label = FIELD_LEVELS[name][lev]
        (pro if w[name][lev] > 0 else con).append(label)
    return pro, con


def explanation_column(levels: np.ndarray, other_ids: pa.Array, has_link: np.ndarray) -> pa.Array:
    """One short Chinese sentence per record: which record it matched and why (vectorised)."""
    parts = []
    for j, name in enumerate(FIELDS):
        labels = pa.array([f"{label}；" for label in FIELD_LEVELS[name]] + [""])
        parts.append(pc.take(labels, pa.array(np.where(levels[:, j] == NULL, len(labels) - 1, levels[:, j]))))
    reasons = pc.utf8_rtrim(pc.binary_join_element_wise(*parts, ""), characters="；")
    text = pc.binary_join_element_wise("与记录 ", other_ids, " 匹配：", reasons, "")
    return pc.if_else(pa.array(has_link), text, "未与其他记录匹配")


def link_table(table: pa.Table, params: Params | None = None, estimate: bool = True,
               progress: Callable[[str], None] | None = None) -> tuple[pa.Table, LinkResult]:
    """Link a checked input table; returns ``record_id, person_id, match_score, explanation``."""
    f = prepare(table)
    res = link_features(f, params, estimate, progress)
    record_ids = pc.cast(table.column("record_id"), pa.string()).combine_chunks()
    # a person's id is the smallest record_id in its cluster: stable when the file is re-run
    order = pc.sort_indices(pa.table({"p": res.person_index, "r": record_ids}),
                            sort_keys=[("p", "ascending"), ("r", "ascending")]).to_numpy()
    first_of = np.full(res.person_index.max() + 1 if f.n else 0, -1, dtype=np.int64)
    seen = np.ones(len(order), dtype=bool)
    seen[1:] = res.person_index[order][1:] != res.person_index[order][:-1]
    first_of[res.person_index[order][seen]] = order[seen]
    person_ids = pc.binary_join_element_wise("P-", pc.take(record_ids, pa.array(first_of[res.person_index])), "")
    has = res.best_other >= 0
    others = pc.take(record_ids, pa.array(np.where(has, res.best_other, 0)))
    out = pa.table({
        "record_id": record_ids,
        "person_id": person_ids,
        "match_score": pa.array(np.round(res.match_score, 4), mask=~has),
        "explanation": explanation_column(res.best_levels, others, has),
    })
    return out, res


@dataclass
class Match:
    """A candidate scored against a query record."""

    index: int  # position in the candidates list
    candidate: dict[str, Any]
    score: float  # probability 0..1
    weight: float  # match weight in bits
    linked: bool  # would the batch linker link this pair
    reasons_for: list[str]
    reasons_against: list[str]


def score_candidates(
    query: dict[str, Any], candidates: list[dict[str, Any]], params: Params | None = None
) -> list[Match]:
    """Score candidate records against one query record, best first, with Chinese reasons.

    Uses the shipped default parameters and the same comparisons and guards as the batch linker;
    name frequency comes from the shipped common-name table, not from the candidates.
    """
    from .io import INPUT_COLUMNS

    if not candidates:
        return []
    params = params or default_params()
    rows = [query, *candidates]
    table = pa.table({c: pa.array([_cell(r.get(c)) for r in rows], pa.string()) for c in INPUT_COLUMNS})
    f = prepare(table)
    right = np.arange(1, len(rows), dtype=np.int64)
    left = np.zeros_like(right)
    levels = compare_all(f, left, right)
    share = _shipped_name_share(f, params, left, right)
    weight = match_weights(params, levels, share)
    ok = identity_guard(levels)
    prob = probability(weight)
    out = []
    for k in range(len(candidates)):
        pro, con = explain_levels(levels[k], params)
        if f.traditional[0] != f.traditional[k + 1] and levels[k, NAME] in (0, 1, 2):
            pro.append("姓名繁简体不同")
        if levels[k, NAME] in (0, 1, 2) and share[k] > 10 * params.name_key_share:
            con.append("常见姓名，同名者多")
        if not ok[k]:
            con.append("关键信息冲突（疑为家人，如双胞胎或借用证号），不自动合并")
        out.append(Match(k, candidates[k], float(prob[k]), float(weight[k]),
                         bool(ok[k] and weight[k] >= params.threshold), pro, con))
    out.sort(key=lambda mt: (-mt.linked, -mt.score))
    return out


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _shipped_name_share(f: Features, params: Params, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    from .names import fold_syllable, name_syllables

    rare = params.name_key_share  # unknown names count as average, not as rare
    shares = np.full(len(f.names.names), rare)
    for i, name in enumerate(f.names.names):
        key = " ".join(fold_syllable(s) for s in name_syllables(name))
        shares[i] = params.common_names.get(key, rare)
    a = np.where(f.name_idx[left] >= 0, f.name_idx[left], 0)
    b = np.where(f.name_idx[right] >= 0, f.name_idx[right], 0)
    return np.maximum(shares[a], shares[b]) if len(shares) else np.zeros(len(left))
