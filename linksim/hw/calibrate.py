"""Cabled-loopback calibration of the RF path: received power and noise floor against TX gain, and the path's
own SNR, so a lab knows whether the RF path can carry the scenario's highest Es/N0 plus a margin (the channel
is applied digitally before the TX: the RF path must be much cleaner than the cleanest simulated link).

Each TX gain step transmits `zeros | tone | zeros` (the tone at `level_dbfs`, fs/16) and receives a little more
than that. In 1024-sample windows the tone power is read from an FFT (a few bins around the tone, so an LO offset
does not matter) and the total power directly; windows without the tone give the noise floor N, windows with it
the tone power S. This needs no alignment between the TX and RX streams and works below 0 dB SNR.

    path SNR (dB)   = 10 log10(S / N)          over the whole sample-rate bandwidth
    path Es/N0 (dB) = path SNR + 10 log10(sample_rate / symbol_rate)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from .profiles import DeviceProfile, load_profile


@dataclass
class CalPoint:
    """One TX gain step. Powers in dB relative to the RX full scale (dBFS)."""

    tx_gains_db: dict[str, float]
    tx_gain_total_db: float
    rx_power_dbfs: float
    noise_floor_dbfs: float
    snr_db: float


@dataclass
class CalibrationResult:
    tx_profile: str
    rx_profile: str
    attenuation_db: float
    sample_rate_sps: float
    symbol_rate_sps: float
    center_freq_hz: float | None
    level_dbfs: float
    rx_gains_db: dict[str, float]
    points: list[CalPoint]
    slope_db_per_db: float
    best_snr_db: float
    path_esn0_db: float
    max_esn0_db: float | None
    margin_db: float
    supports: bool | None
    warnings: list[str] = field(default_factory=list)
    devices: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


TONE_CYCLES_PER_SAMPLE = 1 / 16  # on an FFT bin for any power-of-two window, far from DC (LO leakage)
WINDOW = 1024


def window_powers(y: np.ndarray, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Per window of `window` samples: (total power, tone power), both in mean |y|^2 units.

    The tone's bin is found once, as the peak of the spectrum averaged over all windows within +-window/16 bins
    of the test tone (an LO offset between two devices moves it; DC leakage is outside the search). Each
    window's tone power is then the Hann-windowed FFT power in the 5 bins around it, scaled by Parseval so a
    pure tone of power P gives P; noise alone (power N per sample) adds 5 N / window on average."""
    n = (y.size // window) * window
    if n == 0:
        return np.zeros(0), np.zeros(0)
    w = np.hanning(window)
    blocks_ = y[:n].reshape(-1, window)
    total = np.mean(np.abs(blocks_) ** 2, axis=1)
    spec = np.abs(np.fft.fft(blocks_ * w, axis=1)) ** 2 / (window * np.sum(w**2))
    k0 = int(round(TONE_CYCLES_PER_SAMPLE * window))
    lo, hi = max(3, k0 - window // 16), k0 + window // 16
    peak = lo + int(np.argmax(spec[:, lo:hi].mean(axis=0)))
    tone = spec[:, peak - 2 : peak + 3].sum(axis=1)
    return total, tone


def split_levels(total: np.ndarray, tone: np.ndarray, window: int = WINDOW) -> tuple[float, float]:
    """(noise power per sample, tone power) from the windows of a zeros|tone|zeros capture.

    The tone power, smoothed over 5 windows, is split at the geometric midpoint of its 10th and 90th
    percentiles; the longest run above it is the tone burst. Its windows, less 3 at each end (transitions),
    give the tone power (mean, less the noise in its 5 bins); the windows outside it, less 3 guard windows,
    give the noise (median total power). Works down to about -18 dB SNR per sample."""
    if total.size < 12:
        raise InputError("capture too short to separate signal and noise (need at least 12 windows)")
    sm = np.convolve(tone, np.ones(5) / 5, mode="same")
    lo_p, hi_p = np.percentile(sm, 10), np.percentile(sm, 90)
    if hi_p < 3 * lo_p:
        raise InputError("cannot separate the test tone from noise: no signal received (check cabling and gains)")
    above = np.concatenate([[False], sm > math.sqrt(lo_p * hi_p), [False]])
    edges = np.flatnonzero(np.diff(above.astype(int)))
    starts, ends = edges[::2], edges[1::2]
    k = int(np.argmax(ends - starts))
    s, e = int(starts[k]), int(ends[k])
    loud = tone[s + 3 : e - 3]
    quiet = np.concatenate([total[: max(0, s - 3)], total[e + 3 :]])
    if loud.size < 2 or quiet.size < 2:
        raise InputError("cannot separate the test tone from noise: capture too short or signal too weak")
    noise = float(np.median(quiet))
    sig = float(np.mean(loud)) - 5 * noise / window
    return noise, max(sig, 1e-30)


def _tx_steps(prof: DeviceProfile, base: Mapping[str, float], stage: str | None, points: int) -> list[dict]:
    stages = {s.name: s for s in prof.tx_gains}
    if not stages:
        return [dict(base)]
    if stage is None:
        stage = max(stages.values(), key=lambda s: s.max_db - s.min_db).name
    if stage not in stages:
        raise InputError(f"profile {prof.name}: no TX gain stage {stage!r} (stages: {', '.join(stages)})")
    st = stages[stage]
    values = np.linspace(st.min_db, st.max_db, max(1, points))
    return [{**base, stage: float(v)} for v in values]


def calibrate(
    tx_profile: DeviceProfile | str,
    rx_profile: DeviceProfile | str,
    *,
    attenuation_db: float,
    tx_enable: bool = False,
    sample_rate_sps: float | None = None,
    center_freq_hz: float | None = None,
    symbol_rate_sps: float | None = None,
    level_dbfs: float = -6.0,
    tx_gains_db: Mapping[str, float] | None = None,
    rx_gains_db: Mapping[str, float] | None = None,
    sweep_stage: str | None = None,
    points: int = 5,
    capture_s: float = 0.05,
    max_esn0_db: float | None = None,
    margin_db: float = 3.0,
    attenuator: Any = None,
    options_tx: Mapping[str, Any] | None = None,
    options_rx: Mapping[str, Any] | None = None,
) -> CalibrationResult:
    """Run the calibration (see the module docstring). TX needs `tx_enable=True` and a TX-allowed profile.

    For the loopback pseudo-device the cable is modelled by the attenuation: path gain = -attenuation_db. With
    a programmable `attenuator` (an Attenuator), it is set to `attenuation_db` while transmitting and back to
    maximum afterwards."""
    from gnuradio import blocks, gr

    from .sdr import make_sink, make_source

    tx_p = tx_profile if isinstance(tx_profile, DeviceProfile) else load_profile(tx_profile)
    rx_p = rx_profile if isinstance(rx_profile, DeviceProfile) else load_profile(rx_profile)
    if not (attenuation_db >= 0 and math.isfinite(attenuation_db)):
        raise InputError(f"attenuation_db must be >= 0 dB, got {attenuation_db}")
    if level_dbfs > 0:
        raise InputError(f"level_dbfs must be <= 0 dBFS (full scale), got {level_dbfs}")
    fs = sample_rate_sps or tx_p.default_sps or rx_p.default_sps
    if fs is None:
        raise InputError("give sample_rate_sps: neither profile has a default")
    rs = symbol_rate_sps or fs
    if rs > fs:
        raise InputError(f"symbol rate {rs:g} above sample rate {fs:g}")
    n_sig = max(4096, int(capture_s * fs))
    n_zero = n_sig
    amp = 10 ** (level_dbfs / 20)
    tone = amp * np.exp(2j * np.pi * TONE_CYCLES_PER_SAMPLE * np.arange(n_sig))
    burst = np.concatenate([np.zeros(n_zero), tone, np.zeros(n_zero)]).astype(np.complex64)

    base_tx, _ = tx_p.clamp_gains("tx", tx_gains_db)
    steps = _tx_steps(tx_p, base_tx, sweep_stage, points)
    opts_tx = dict(options_tx or {})
    opts_rx = dict(options_rx or {})
    warnings: list[str] = []
    pts: list[CalPoint] = []
    devices: dict[str, Any] = {}
    rx_applied: dict[str, float] = {}
    if attenuator is not None:
        attenuator.set_db(attenuation_db)
    try:
        for k, gains in enumerate(steps):
            chan = f"cal-{id(steps)}-{k}"  # a fresh in-process link per step
            if tx_p.kind == "loopback":
                opts_tx["channel"] = chan
            if rx_p.kind == "loopback":
                opts_rx["channel"] = chan
                opts_rx["path_gain_db"] = -float(attenuation_db)  # the cable is the attenuator
            tb = gr.top_block()
            tx = make_sink(
                tx_p,
                sample_rate_sps=fs,
                center_freq_hz=center_freq_hz,
                gains_db=gains,
                tx_enable=tx_enable,
                options=opts_tx if tx_p.is_pseudo else None,
            )
            rx = make_source(
                rx_p,
                sample_rate_sps=fs,
                center_freq_hz=center_freq_hz,
                gains_db=rx_gains_db,
                options=opts_rx if rx_p.is_pseudo else None,
            )
            head = blocks.head(gr.sizeof_gr_complex, burst.size + n_zero)
            snk = blocks.vector_sink_c()
            tb.connect(blocks.vector_source_c(burst.tolist(), False), tx)
            tb.connect(rx, head, snk)
            tb.run()
            y = np.asarray(snk.data(), dtype=np.complex64)
            noise, sig = split_levels(*window_powers(y))
            pts.append(
                CalPoint(
                    tx_gains_db=dict(tx.gains_db),
                    tx_gain_total_db=float(sum(tx.gains_db.values())),
                    rx_power_dbfs=10 * math.log10(sig),
                    noise_floor_dbfs=10 * math.log10(max(noise, 1e-30)),
                    snr_db=10 * math.log10(sig / max(noise, 1e-30)),
                )
            )
            warnings.extend(tx.notes + rx.notes)
            rx_applied = dict(rx.gains_db)
            if k == 0:
                devices = {"tx": tx.metadata(), "rx": rx.metadata()}
            stats = rx.link_stats()
            if stats is not None and not stats.ok:
                warnings.append(f"step {k}: {stats.summary()}")
    finally:
        if attenuator is not None:
            attenuator.set_db(attenuator.max_db)
    g = np.array([p.tx_gain_total_db for p in pts])
    pr = np.array([p.rx_power_dbfs for p in pts])
    slope = float(np.polyfit(g, pr, 1)[0]) if len(pts) > 1 and np.ptp(g) > 0 else float("nan")
    if len(pts) > 1 and math.isfinite(slope) and abs(slope - 1.0) > 0.1:
        warnings.append(f"received power rises {slope:.2f} dB per dB of TX gain (1.00 expected): compression?")
    best = max(pts, key=lambda p: p.snr_db)
    path_esn0 = best.snr_db + 10 * math.log10(fs / rs)
    supports = None
    if max_esn0_db is not None:
        supports = path_esn0 >= max_esn0_db + margin_db
        if not supports:
            warnings.append(
                f"RF path Es/N0 {path_esn0:.1f} dB cannot support the scenario's highest Es/N0 {max_esn0_db:.1f} dB "
                f"+ {margin_db:.1f} dB margin: lower the attenuation or raise the TX gain"
            )
    return CalibrationResult(
        tx_profile=tx_p.name,
        rx_profile=rx_p.name,
        attenuation_db=float(attenuation_db),
        sample_rate_sps=float(fs),
        symbol_rate_sps=float(rs),
        center_freq_hz=center_freq_hz,
        level_dbfs=float(level_dbfs),
        rx_gains_db=rx_applied,
        points=pts,
        slope_db_per_db=slope,
        best_snr_db=best.snr_db,
        path_esn0_db=path_esn0,
        max_esn0_db=max_esn0_db,
        margin_db=float(margin_db),
        supports=supports,
        warnings=warnings,
        devices=devices,
    )
