"""Counting honestly in runs: frames that straddle a bin boundary are shared pro rata (the bins add up to the frames'
payload and no bin exceeds the link rate), and the receiver's reports do not depend on how the stream is cut."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from linksim.budget.timeline import compute_timeline
from linksim.dvbs2.params import frame_params
from linksim.dvbs2.rx import Receiver
from linksim.dvbs2.tx import Transmitter, random_ts_frames
from linksim.run.metrics import StretchAccount
from linksim.run.prepare import plan_stretch
from linksim.scenario.model import scenario_from_dict


def bench(modcod: str = "QPSK 1/2") -> dict:
    return {
        "scenario": {"name": "bench", "start": "2026-01-01T00:00:00Z", "duration_s": 10.0, "step_s": 1.0},
        "site": {"lat_deg": 60.0, "lon_deg": 10.0},
        "terminal": {"antenna_diameter_m": 1.2, "noise_temp_k": 100.0},
        "satellite": {"eirp_dbw": 40.0},
        "geometry": {"elevation_deg": 30.0, "range_km": 38000.0},
        "carrier": {"freq_hz": 7.5e9, "symbol_rate_baud": 1.0e6, "modcod": modcod},
        "propagation": {"mode": "clear_sky", "gas": False, "cloud": False},
    }


def _stretch_account(modcod: str, t1: float, bin_s: float, failed: set[int] = frozenset()):
    """A stretch of back-to-back frames, every one reported by a 'receiver' at the expected place (ok unless its
    number is in `failed`), accounted as a run does."""
    s = scenario_from_dict(bench(modcod))
    tl = compute_timeline(s)
    st, _ = plan_stretch(s, tl, 0, 0.0, t1, False, 1)
    pf = frame_params(modcod)
    n_frames = st.n_samples // (pf.plframe_symbols * st.sps)
    log = [(i * pf.plframe_symbols * st.sps, modcod) for i in range(n_frames)]
    acct = StretchAccount(s, st, tl, bin_s, False, lambda idx: np.zeros(len(idx)), latency=100.0)
    acct.add_log(log)
    reports = [SimpleNamespace(sample_index=idx + 100, modcod=modcod, ok=i not in failed, ldpc_iterations=5,
                               bch_corrected=0, esn0_est_db=7.0) for i, (idx, _) in enumerate(log)]
    return s, st, pf, log, acct, reports


@pytest.mark.parametrize("modcod, t1, bin_s", [("8PSK 3/4", 2.0, 1.0), ("QPSK 1/2", 3.0, 0.7)])
def test_frames_straddling_bins_are_shared_pro_rata(modcod, t1, bin_s):
    s, st, pf, log, acct, reports = _stretch_account(modcod, t1, bin_s)
    rows, bins = [], []
    for k in range(0, len(reports), 7):  # the receiver reports in batches, the run settles as they come
        acct.add_reports(reports[k : k + 7], reports[min(k + 7, len(reports) - 1)].sample_index - 1)
        r, b = acct.settle()
        rows += r
        bins += b
    r, b = acct.settle(final=True)
    rows += r
    bins += b
    rate_frames = s.carrier.symbol_rate_baud / pf.plframe_symbols  # frames per second the link carries
    link_bps = rate_frames * pf.data_field_bits
    assert [b["time_s"] for b in bins] == pytest.approx(list(np.arange(0.0, t1 - 1e-9, bin_s)))
    for b in bins:
        # exactly what fits in the bin, never more than the link carries (counting whole frames by their start
        # put ceil() frames in some bins: 31 where 30.05 fit)
        assert b["frames"] == pytest.approx(rate_frames * b["bin_s"], abs=1e-3)
        assert b["goodput_bps"] <= link_bps * (1 + 1e-9)
        assert b["goodput_bps"] == pytest.approx(link_bps, rel=1e-9)
    # the bins add up to the frames' payload inside the span, each frame counted once with its share
    assert sum(b["goodput_bps"] * b["bin_s"] for b in bins) == pytest.approx(
        sum(f.info_bits * f.share for f in rows), rel=1e-12)
    assert sum(f.share for f in rows) == pytest.approx(rate_frames * t1, abs=1e-6)
    assert [f.tx_index for f in rows] == sorted({f.tx_index for f in rows})  # each frame once, in order
    edge = [f for f in rows if f.share < 1.0]
    assert 1 <= len(edge) <= 2 and all(0 < f.share < 1 for f in edge)


def test_a_failed_frame_counts_as_an_error_in_the_bins_it_overlaps():
    s, st, pf, log, acct, reports = _stretch_account("8PSK 3/4", 2.0, 1.0)
    dur = pf.plframe_symbols / s.carrier.symbol_rate_baud
    # the frame that straddles t = 1 s fails
    j = next(i for i, (idx, _) in enumerate(log) if st.t_base_s + idx / st.fs < 1.0 < st.t_base_s + idx / st.fs + dur)
    reports[j].ok = False
    acct.add_reports(reports, math.inf)
    rows, bins = acct.settle(final=True)
    t_j = st.t_base_s + log[j][0] / st.fs
    assert bins[0]["frame_errors"] == pytest.approx((1.0 - t_j) / dur, abs=1e-4)
    assert bins[1]["frame_errors"] == pytest.approx(1.0 - (1.0 - t_j) / dur, abs=1e-4)
    assert sum(b["frame_errors"] for b in bins) == pytest.approx(1.0, abs=2e-4)
    assert [f.ok for f in rows].count(False) == 1


def test_a_cut_stretch_keeps_the_complete_bins_and_no_more():
    s, st, pf, log, acct, reports = _stretch_account("QPSK 1/2", 3.0, 1.0)
    fs = st.fs
    # the receiver has reported everything before t = 1.6 s when the run is stopped
    w = (1.6 - st.t_base_s) * fs
    acct.add_reports([r for r in reports if r.sample_index < w], w)
    rows, bins = acct.settle()
    more_rows, more_bins = acct.cut()
    rows += more_rows
    bins += more_bins
    assert acct.cut_s == pytest.approx(1.0)
    assert len(bins) == 1 and bins[0]["time_s"] == 0.0
    assert sum(f.share for f in rows) == pytest.approx(bins[0]["frames"], abs=1e-4)
    acct.add_reports(reports, math.inf)  # what a receiver flushes while it is stopped does not count
    assert acct.settle() == ([], [])


def _noisy_frames() -> np.ndarray:
    tx = Transmitter(sps=2)
    frames, _ = random_ts_frames(tx, "8PSK 3/4", 8, seed=3)
    x = np.concatenate([tx.shape(f) for f in frames] + [tx.flush()])
    rng = np.random.default_rng(1)
    noise = 0.3 * (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size))
    return (x * np.exp(2j * np.pi * 0.003 * np.arange(x.size)) + noise).astype(np.complex64)


def test_receiver_reports_do_not_depend_on_how_the_stream_is_cut():
    """The same samples in one piece, in 4096-sample pieces and in random pieces give identical reports: Es/N0
    estimates, LDPC iterations, positions and the samples after which each report came out (the ACM return path
    of a run gates on that)."""
    x = _noisy_frames()

    def reports(cuts: list[int]) -> list[tuple]:
        rx = Receiver(sps=2)
        out, i = [], 0
        for c in cuts:
            out += rx.process(x[i : i + c])
            i += c
        out += rx.process(x[i:]) + rx.flush()
        return [(r.sample_index, r.modcod, r.ok, r.ldpc_iterations, r.bch_corrected, r.esn0_est_db, r.cfo_cyc,
                 r.emitted_after, r.payload) for r in out]

    whole = reports([])
    assert len(whole) == 8 and all(r[2] for r in whole)
    assert reports([4096] * (x.size // 4096)) == whole
    assert reports(list(np.random.default_rng(5).integers(1, 70000, 40))) == whole
    assert reports([1] * 500 + [7] * 300) == whole
