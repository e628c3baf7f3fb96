"""Automatic measurements of a resting 12-lead ECG, offered to the reader as assistance (自动测量，仅供参考),
never as the diagnosis: heart rate, PR, QRS, QT, QTc (Bazett), the frontal QRS axis and the ST deviation of
each lead at J + 60 ms.

The method is the classic one of interpretive electrocardiographs, in numpy/scipy (tens of milliseconds, no
neurokit2 on the request path): baseline removal, R peaks on the summed band-passed slope of all leads, a median
beat per lead, then global delineation on the spatial velocity of the twelve median beats (QRS onset and
offset), the P wave and the end of T (tangent method) on the lead where each wave is largest."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .simulate import LEADS


def _filtfilt_high(x: np.ndarray, rate: int, cutoff: float = 0.5) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, cutoff / (rate / 2), btype="highpass", output="sos")
    return sosfiltfilt(sos, x, axis=-1)


def _band(x: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, [low / (rate / 2), high / (rate / 2)], btype="bandpass", output="sos")
    return sosfiltfilt(sos, x, axis=-1)


def r_peaks(mv: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import find_peaks

    slope = np.diff(_band(mv, rate, 5.0, 25.0), axis=-1)
    energy = np.sum(slope ** 2, axis=0)
    win = max(int(0.06 * rate), 1)
    energy = np.convolve(energy, np.ones(win) / win, mode="same")
    height = 0.25 * np.percentile(energy, 99.5)
    peaks, _ = find_peaks(energy, height=height, distance=int(0.28 * rate))
    # the R peak: the largest absolute deflection of the summed leads near the energy peak
    summed = np.sum(np.abs(_band(mv, rate, 1.0, 40.0)), axis=0)
    refined = []
    half = int(0.06 * rate)
    for p in peaks:
        lo, hi = max(p - half, 0), min(p + half, mv.shape[1])
        refined.append(lo + int(np.argmax(summed[lo:hi])))
    return np.array(sorted(set(refined)), dtype=int)


def _first_quiet(v: np.ndarray, start: int, step: int, threshold: float, hold: int) -> int | None:
    """The first index from ``start`` going by ``step`` where ``v`` stays under ``threshold`` for ``hold``."""
    i, run = start, 0
    while 0 <= i < len(v):
        run = run + 1 if v[i] < threshold else 0
        if run >= hold:
            return i - step * (hold - 1)
        i += step
    return None


def measure(samples: np.ndarray, rate: int, microvolts_per_unit: float) -> dict[str, Any]:
    """The measurements: ``rate`` (/min), ``rr``, ``pr``, ``qrs``, ``qt``, ``qtc`` (ms), ``axis`` (degrees),
    ``st`` (mV at J + 60 ms, per lead), ``rhythm`` (a sinus rhythm's name or ""), ``beats``; a value that could
    not be measured is None. The keys are the report form's structured fields (``workflow.STRUCTURED``)."""
    out: dict[str, Any] = {"rhythm": "", "rate": None, "rr": None, "pr": None, "qrs": None, "qt": None,
                           "qtc": None, "axis": None, "st": {}, "beats": 0}
    mv = _filtfilt_high(samples.astype(float) * microvolts_per_unit / 1000.0, rate)
    peaks = r_peaks(mv, rate)
    out["beats"] = len(peaks)
    if len(peaks) < 3:
        return out
    rr = float(np.median(np.diff(peaks))) / rate
    out["rr"] = round(rr * 1000)
    out["rate"] = round(60.0 / rr)
    before, after = int(min(0.35, 0.45 * rr) * rate), int(min(0.7, 0.85 * rr) * rate)
    beats = [mv[:, p - before:p + after] for p in peaks if p - before >= 0 and p + after <= mv.shape[1]]
    if len(beats) < 2:
        return out
    median = np.median(np.stack(beats), axis=0)  # (12, window); the R peak at index ``before``
    r = before
    ms = 1000.0 / rate
    hold = max(int(0.012 * rate), 2)

    # QRS onset/offset on the spatial velocity
    velocity = np.sqrt(np.sum(np.diff(median, axis=1) ** 2, axis=0))
    qrs_zone = velocity[max(r - int(0.08 * rate), 0):r + int(0.08 * rate)]
    threshold = 0.08 * float(qrs_zone.max())
    onset = _first_quiet(velocity, r, -1, threshold, hold)
    offset = _first_quiet(velocity, r, 1, threshold, hold)
    if onset is None or offset is None or offset <= onset:
        return out
    out["qrs"] = round((offset - onset) * ms)
    iso = median[:, onset]  # the PR segment's level, per lead

    # frontal axis from the net QRS area of I and aVF
    area = np.sum(median[:, onset:offset + 1] - iso[:, None], axis=1)
    out["axis"] = round(math.degrees(math.atan2(area[LEADS.index("aVF")], area[LEADS.index("I")])))

    # ST deviation at J + 60 ms
    j60 = offset + int(0.06 * rate)
    if j60 < median.shape[1]:
        out["st"] = {lead: round(float(median[i, j60] - iso[i]), 2) for i, lead in enumerate(LEADS)}

    # T end: tangent at the steepest descent after the T peak, on the lead with the largest T
    t_lo, t_hi = offset + int(0.08 * rate), min(r + int(0.75 * rr * rate), median.shape[1] - 1)
    if t_hi - t_lo > int(0.05 * rate):
        dev = median[:, t_lo:t_hi] - iso[:, None]
        lead = int(np.argmax(np.max(np.abs(dev), axis=1)))
        wave = dev[lead]
        peak = int(np.argmax(np.abs(wave)))
        sign = 1.0 if wave[peak] > 0 else -1.0
        tail = sign * wave[peak:peak + int(0.16 * rate)]  # the descent of T, not the next P
        if len(tail) > 3:
            slope = np.diff(tail)
            k = int(np.argmin(slope))
            if slope[k] < 0:
                t_end = t_lo + peak + k + tail[k] / -slope[k]
                qt = (t_end - onset) * ms
                if 200 <= qt <= 700:
                    out["qt"] = round(qt)
                    out["qtc"] = round(qt / math.sqrt(rr))

    # P onset on the lead with the largest P wave in the 300 ms before the QRS
    p_lo, p_hi = max(onset - int(0.30 * rate), 0), onset - int(0.03 * rate)
    if p_hi - p_lo > int(0.05 * rate):
        dev = median[:, p_lo:p_hi] - iso[:, None]
        lead = int(np.argmax(np.max(np.abs(dev), axis=1)))
        wave = np.abs(dev[lead])
        peak = int(np.argmax(wave))
        if wave[peak] > 0.05:  # a P wave of at least 0.05 mV (else: no P, e.g. atrial fibrillation)
            below = np.nonzero(wave[:peak] < 0.12 * wave[peak])[0]
            if len(below):
                pr = (onset - (p_lo + int(below[-1]))) * ms
                if 60 <= pr <= 400:
                    out["pr"] = round(pr)
    out["rhythm"] = rhythm(out["rate"], out["pr"], np.diff(peaks) / rate)
    return out


def rhythm(rate: int | None, pr: int | None, rr: np.ndarray) -> str:
    """A sinus rhythm's name when every beat has its P wave (a PR was measured on the median beat) and the RR
    intervals are regular (within 15 % of their median); otherwise nothing: the reader names the rhythm."""
    if rate is None or pr is None or len(rr) < 2:
        return ""
    if np.max(np.abs(rr - np.median(rr))) > 0.15 * np.median(rr):
        return ""
    if rate > 100:
        return "窦性心动过速"
    if rate < 60:
        return "窦性心动过缓"
    return "窦性心律"
