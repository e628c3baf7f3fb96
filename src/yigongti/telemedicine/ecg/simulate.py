"""Synthetic resting 12-lead ECGs (10 s, 500 Hz) for the demo, the tests and the benches.

A heart-vector model: every wave of a beat (P, septal q, R, S, T and, for an infarct, the injury current of the
ST segment) is a Gaussian bump in time with a direction in space (x to the patient's left, y downwards,
z forwards); the body-surface leads are its projections. Leads I and II and V1–V6 are "recorded" (each with its
own noise), III, aVR, aVL and aVF are derived from I and II as an electrocardiograph does (Einthoven,
Goldberger), so the leads hold together the way a real recording does. Heart rate varies with breathing, the
baseline wanders a little, the QT follows the rate (QTc near 410 ms, Bazett).

STEMI patterns add ST elevation and hyperacute T waves facing the injured wall, with reciprocal depression
opposite: ``"inferior"`` (II, III, aVF up; I, aVL down) or ``"anterior"`` (V1–V4 up; II, III, aVF down).

Pure numpy, a few milliseconds per recording, deterministic by ``seed``. ``neurokit2`` (its
``ecg_simulate(method="multileads")``) is an alternative source of realistic beats but costs seconds to import
and run, so nothing here imports it: the demo generates from this model."""

from __future__ import annotations

import math

import numpy as np

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
SAMPLE_RATE = 500
SECONDS = 10
MICROVOLTS_PER_UNIT = 2.5  # int16 steps of 2.5 µV: ±82 mV of range, finer than any electrocardiograph's noise

# precordial electrodes: angle in the horizontal plane from the patient's left (x) towards the front (z)
_PRECORDIAL_DEG = [118, 94, 76, 60, 32, 2]
_PRECORDIAL_GAIN = 1.3  # the chest leads sit nearer the heart than the limb leads

STEMI_DIRECTIONS: dict[str, tuple[float, float, float]] = {
    "inferior": (-0.25, 1.0, 0.0),   # right coronary artery: III ≥ II, reciprocal in aVL and I
    "anterior": (-0.1, -0.3, 1.0),   # left anterior descending: V1–V4, reciprocal in II, III, aVF
}


def _unit(v: tuple[float, float, float]) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    return a / np.linalg.norm(a)


def _waves(rng: np.random.Generator, rr: float) -> list[tuple[float, float, float, float, np.ndarray]]:
    """The beat's waves: (centre s from the R peak, width left, width right, amplitude mV, direction)."""
    jitter = lambda scale: float(rng.normal(1.0, scale))  # noqa: E731
    qt = 0.41 * math.sqrt(rr) * jitter(0.03)  # Bazett: QTc ≈ 410 ms
    qrs_onset = -0.045
    t_peak = qrs_onset + qt - 0.06
    pr = 0.16 * jitter(0.08)
    p_centre = qrs_onset - pr + 0.055
    return [
        (p_centre, 0.024, 0.024, 0.16 * jitter(0.1), _unit((0.5, 0.8, 0.15))),
        (-0.024, 0.009, 0.009, 0.18 * jitter(0.1), _unit((-0.5, 0.15, 0.85))),
        (0.0, 0.011, 0.011, 1.35 * jitter(0.12), _unit((0.8, 0.55 * jitter(0.15), -0.2))),
        (0.026, 0.010, 0.011, 0.35 * jitter(0.12), _unit((-0.3, -0.35, -0.85))),
        (t_peak, 0.060, 0.038, 0.34 * jitter(0.12), _unit((0.6, 0.6, 0.35))),
    ]


def _gauss(t: np.ndarray, centre: float, left: float, right: float) -> np.ndarray:
    d = t - centre
    width = np.where(d < 0, left, right)
    return np.exp(-0.5 * (d / width) ** 2)


def _st_plateau(t: np.ndarray, j_point: float, t_peak: float) -> np.ndarray:
    """The injury current: on from the J point (smooth rise), off after the T wave's peak."""
    rise = 1.0 / (1.0 + np.exp(-(t - j_point) / 0.006))
    fall = 1.0 / (1.0 + np.exp((t - (t_peak + 0.03)) / 0.03))
    return rise * fall


def heart_vector(seed: int, *, stemi: str | None = None, hr: float | None = None,
                 rate: int = SAMPLE_RATE, seconds: float = SECONDS) -> np.ndarray:
    """The heart vector in mV, shape (3, n)."""
    if stemi is not None and stemi not in STEMI_DIRECTIONS:
        raise ValueError(f"unknown STEMI pattern {stemi!r}")
    rng = np.random.default_rng(seed)
    hr = float(hr if hr is not None else rng.uniform(58, 96))
    n = round(rate * seconds)
    t = np.arange(n) / rate
    mean_rr = 60.0 / hr
    # beats: sinus rhythm with respiratory variation (breathing every ~4 s)
    breath = rng.uniform(3.5, 5.0)
    phase = rng.uniform(0, 2 * math.pi)
    peaks = [rng.uniform(0.25, 0.25 + mean_rr)]
    while peaks[-1] < seconds + 1.0:
        rr = mean_rr * (1 + 0.035 * math.sin(2 * math.pi * peaks[-1] / breath + phase) + rng.normal(0, 0.01))
        peaks.append(peaks[-1] + rr)
    peaks = [peaks[0] - mean_rr, *peaks]
    vec = np.zeros((3, n))
    injury = _unit(STEMI_DIRECTIONS[stemi]) if stemi else None
    st_mv = rng.uniform(0.22, 0.38)
    for i, r in enumerate(peaks):
        rr = peaks[i + 1] - r if i + 1 < len(peaks) else mean_rr
        lo, hi = np.searchsorted(t, [r - 0.4, r + 0.7])
        if hi <= lo:
            continue
        tt = t[lo:hi] - r
        waves = _waves(rng, rr)
        for centre, left, right, amp, direction in waves:
            vec[:, lo:hi] += np.outer(direction, amp * _gauss(tt, centre, left, right))
        if injury is not None:
            t_peak = waves[-1][0]
            vec[:, lo:hi] += np.outer(injury, st_mv * _st_plateau(tt, 0.045, t_peak))
            vec[:, lo:hi] += np.outer(injury, 0.35 * _gauss(tt, t_peak, 0.05, 0.04))  # hyperacute T
    return vec


def _leads_mv(vec: np.ndarray, rng: np.random.Generator, rate: int) -> np.ndarray:
    n = vec.shape[1]
    t = np.arange(n) / rate

    def noise() -> np.ndarray:
        wander = 0.04 * np.sin(2 * math.pi * rng.uniform(0.15, 0.3) * t + rng.uniform(0, 6.3))
        return wander + rng.normal(0, 0.008, n)

    lead_i = vec[0] + noise()
    lead_ii = 0.5 * vec[0] + 0.866 * vec[1] + noise()
    limb = [lead_i, lead_ii, lead_ii - lead_i, -(lead_i + lead_ii) / 2, lead_i - lead_ii / 2, lead_ii - lead_i / 2]
    chest = []
    for deg in _PRECORDIAL_DEG:
        a = math.radians(deg)
        direction = np.array([math.cos(a), 0.12, math.sin(a)])
        chest.append(_PRECORDIAL_GAIN * direction @ vec + noise())
    return np.vstack(limb + chest)


def twelve_lead(seed: int, stemi: str | None = None, hr: float | None = None, *,
                rate: int = SAMPLE_RATE, seconds: float = SECONDS) -> tuple[np.ndarray, int, float]:
    """A resting 12-lead ECG: (samples int16 of shape (12, n) in the order of ``LEADS``, sample rate in Hz,
    microvolts per unit). ``stemi`` is None, "anterior" or "inferior"; ``hr`` beats per minute (else 58–96)."""
    rng = np.random.default_rng([seed, 1])
    mv = _leads_mv(heart_vector(seed, stemi=stemi, hr=hr, rate=rate, seconds=seconds), rng, rate)
    units = np.clip(np.rint(mv * 1000.0 / MICROVOLTS_PER_UNIT), -32768, 32767).astype(np.int16)
    return units, rate, MICROVOLTS_PER_UNIT
