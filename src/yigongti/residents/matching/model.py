"""Fellegi–Sunter model: m/u probabilities per comparison level, estimated by EM from the data.

m = P(level | same person) is estimated by EM over the *candidate pairs* (those that survived
blocking), where matches are common enough to learn from; EM starts from the shipped defaults
(``default_params.json``, fitted on ``synth`` data with known truth), which keeps it on the
match / non-match split rather than, say, family / non-family.

u = P(level | different persons) is counted on *random* record pairs, and λ is the share of all
record pairs that match. Using u among candidate pairs instead would break the model's
independence assumption: blocked non-matches agree on name *or* birth date by construction, so
agreement on both would be badly under-weighted. What random u misses — relatives share household,
address, phone and sometimes an ID number — is handled by explicit guards in ``link``.

Names get a term-frequency adjustment: agreeing on 王伟 is weaker evidence than agreeing on 覃嘉懿.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .compare import FIELD_LEVELS, FIELDS, NULL

FLOOR = 1e-6
TF_CAP = 8.0  # bits: the name-frequency adjustment can move a weight at most this far


@dataclass
class Params:
    """Model parameters; ``m[field][level]`` and ``u[field][level]`` are probabilities."""

    lam: float
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    threshold: float = 0.0  # match weight (bits) at or above which a pair links
    name_key_share: float = 1e-4  # P(two random records share a folded name key): the TF baseline
    common_names: dict[str, float] = field(default_factory=dict)  # folded pinyin key → share of records

    def weights(self) -> dict[str, np.ndarray]:
        """log2(m/u) per field and level, with a trailing 0 used for NULL (index -1)."""
        out = {}
        for f in FIELDS:
            m = np.maximum(np.asarray(self.m[f], dtype=float), FLOOR)
            u = np.maximum(np.asarray(self.u[f], dtype=float), FLOOR)
            out[f] = np.append(np.log2(m / u), 0.0)
        return out

    def prior(self) -> float:
        return float(np.log2(self.lam / (1 - self.lam)))

    def to_json(self) -> str:
        def r(x: float) -> float:
            return float(f"{x:.6g}")

        data = {
            "lam": r(self.lam),
            "m": {f: [r(x) for x in v] for f, v in self.m.items()},
            "u": {f: [r(x) for x in v] for f, v in self.u.items()},
            "threshold": self.threshold,
            "name_key_share": r(self.name_key_share),
            "common_names": self.common_names,
        }
        return json.dumps(data, ensure_ascii=False, indent=0)

    @classmethod
    def from_json(cls, text: str) -> Params:
        return cls(**json.loads(text))


@lru_cache(maxsize=1)
def _default_params_text() -> str:
    return resources.files(__package__).joinpath("default_params.json").read_text(encoding="utf-8")


def default_params() -> Params:
    """Parameters shipped with the package (estimated on synthetic data with known truth)."""
    return Params.from_json(_default_params_text())


def save_params(params: Params, path: Path) -> None:
    path.write_text(params.to_json(), encoding="utf-8")


def match_weights(params: Params, levels: np.ndarray, name_share: np.ndarray | None = None) -> np.ndarray:
    """Match weight (bits) of each pair: prior + Σ log2(m/u) + name-frequency adjustment."""
    w = params.weights()
    total = np.full(len(levels), params.prior())
    for j, f in enumerate(FIELDS):
        total += w[f][levels[:, j]]  # NULL (-1) picks the trailing 0
    if name_share is not None:
        total += tf_adjustment(params, levels[:, 0], name_share)
    return total


def tf_adjustment(params: Params, name_levels: np.ndarray, name_share: np.ndarray) -> np.ndarray:
    """log2(baseline / share of this name) on the name levels that mean "same pronunciation"."""
    share = np.maximum(name_share, 1e-7)
    adj = np.clip(np.log2(params.name_key_share / share), -TF_CAP, TF_CAP)
    return np.where((name_levels >= 0) & (name_levels <= 2), adj, 0.0)


def probability(weights: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.clip(weights, -60, 60)))


def _patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct comparison vectors and how often each occurs (EM runs on these, not on pairs)."""
    uniq, counts = np.unique(levels, axis=0, return_counts=True)
    return uniq, counts.astype(float)


def estimate_em(levels: np.ndarray, start: Params, iterations: int = 25, tol: float = 1e-5) -> Params:
    """Expectation–maximisation of λ, m and u over the candidate pairs' comparison levels."""
    pats, counts = _patterns(levels)
    lam = start.lam
    m = {f: np.maximum(np.asarray(start.m[f], float), FLOOR) for f in FIELDS}
    u = {f: np.maximum(np.asarray(start.u[f], float), FLOOR) for f in FIELDS}
    for _ in range(iterations):
        log_m = np.zeros(len(pats))
        log_u = np.zeros(len(pats))
        for j, f in enumerate(FIELDS):
            g = pats[:, j]
            present = g != NULL
            log_m[present] += np.log(m[f][g[present]])
            log_u[present] += np.log(u[f][g[present]])
        odds = np.log(lam / (1 - lam)) + log_m - log_u
        p = 1.0 / (1.0 + np.exp(-np.clip(odds, -700, 700)))
        wm, wu = p * counts, (1 - p) * counts
        new_lam = float(np.clip(wm.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        delta = abs(new_lam - lam)
        lam = new_lam
        for j, f in enumerate(FIELDS):
            g = pats[:, j]
            present = g != NULL
            k = len(FIELD_LEVELS[f])
            new_m = np.bincount(g[present], weights=wm[present], minlength=k)
            new_u = np.bincount(g[present], weights=wu[present], minlength=k)
            new_m = np.maximum(new_m / max(new_m.sum(), FLOOR), FLOOR)
            new_u = np.maximum(new_u / max(new_u.sum(), FLOOR), FLOOR)
            delta = max(delta, float(np.abs(new_m - m[f]).max()))
            m[f], u[f] = new_m, new_u
        if delta < tol:
            break
    return Params(
        lam, {f: m[f].tolist() for f in FIELDS}, {f: u[f].tolist() for f in FIELDS},
        start.threshold, start.name_key_share, start.common_names,
    )


def level_shares(levels: np.ndarray, weights: np.ndarray | None = None) -> dict[str, list[float]]:
    """Share of each level per field among non-NULL values (add-half smoothing)."""
    out = {}
    for j, f in enumerate(FIELDS):
        g = levels[:, j]
        present = g != NULL
        w = None if weights is None else weights[present]
        c = np.bincount(g[present], weights=w, minlength=len(FIELD_LEVELS[f])) + 0.5
        out[f] = (c / c.sum()).tolist()
    return out


def flat_u() -> dict[str, list[float]]:
    """Uniform starting u for EM among candidate pairs (the m side drives the split)."""
    return {f: [1.0 / len(FIELD_LEVELS[f])] * len(FIELD_LEVELS[f]) for f in FIELDS}
