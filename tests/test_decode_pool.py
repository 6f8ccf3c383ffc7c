"""The receiver on several threads: frames decoded on a pool (the next frames synchronised meanwhile on a guess of
the outcome, taken back when wrong) and the front end one block ahead give exactly what the one-thread receiver
gives (every report field, TS packets, decoded data fields, emitted_after, statistics), in the same order, and
reported_through never passes a frame still to come, for streams that acquire late, fail to decode below
threshold, decode and fail in turn, and lose and regain lock, DVB-S2X VL-SNR frames among DVB-S2 ones included.

Authority: the one-thread receiver (decode_threads=0, pipeline=False) on the same stream cut the same way.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from linksim.dvbs2.link import late_stream
from linksim.dvbs2.rx import Receiver
from linksim.errors import InputError
from linksim.scenario import modcods


def _dropout(modcod: str, esn0_db: float, seed: int) -> np.ndarray:
    """Frames, then a stretch of noise (the link drops: lock is lost), then frames again at another offset."""
    a = late_stream(modcod, esn0_db, 5, 30_000, 0.01, seed)
    b = late_stream(modcod, esn0_db, 5, 300_000, 0.012, seed + 7)
    return np.concatenate([a, b])


def _run(x: np.ndarray, block: int, erasures: np.ndarray | None = None,
         **kw: object) -> tuple[list, dict, list, dict]:
    rx = Receiver(**kw)  # type: ignore[arg-type]
    rx.keep_raw_field = True
    reps, measured = [], []
    marks: list[float] = []
    for i in range(0, x.size, block):
        new = rx.process(x[i : i + block], erasures=None if erasures is None else erasures[i : i + block])
        # reported_through: no later report lies before it (frames still decoding hold it back)
        assert all(r.sample_index > m for r in new for m in marks), kw
        reps += new
        marks.append(rx.reported_through)
        measured += rx.take_measured()
    reps += rx.flush()
    measured += rx.take_measured()
    assert [id(r) for r in measured] == [id(r) for r in reps]  # every frame measured once, in order
    return ([(r.as_dict(), r.ts, r.raw_field, r.payload, r.emitted_after) for r in reps], dict(rx.stats), reps,
            rx.speculation)


@pytest.mark.parametrize("modcod, margin_db, kind, block", [
    ("QPSK 1/2", 1.0, "dropout", 65536),
    ("QPSK 1/2", 1.0, "dropout", 30011),
    ("8PSK 3/5", -0.4, "late", 65536),  # below threshold: frames fail, the carrier state follows each outcome
    ("16APSK 2/3", -0.2, "dropout", 50000),
])
def test_pool_and_pipeline_give_the_one_thread_results(modcod, margin_db, kind, block, monkeypatch):
    esn0 = modcods.get(modcod).esn0_qef_db + margin_db
    x = _dropout(modcod, esn0, 5) if kind == "dropout" else late_stream(modcod, esn0, 8, 50_000, 0.01, 3)
    ref, ref_stats, ref_reps, _ = _run(x, block)
    assert ref, "the one-thread receiver found frames"
    if kind == "dropout":
        assert ref_stats["lost_lock"] >= 1  # the redo path of the pipeline is exercised
    import linksim.dvbs2.decode_pool as dp

    slow = dp.decode_frame

    def slow_decode(*a: object) -> object:  # a decoder slower than the synchronisation: every guess is taken
        time.sleep(0.02)
        return slow(*a)

    for kw in ({"decode_threads": 2}, {"decode_threads": 1, "pipeline": True}, {"pipeline": True}):
        monkeypatch.setattr(dp, "decode_frame", slow_decode if kw.get("decode_threads") else slow)
        got, stats, reps, spec = _run(x, block, **kw)
        assert got == ref, kw
        assert stats == ref_stats, kw
        assert [r.cfo_cyc for r in reps] == [r.cfo_cyc for r in ref_reps]
        if kw.get("decode_threads") and any(r.ok for r in ref_reps):
            # the next frames went on while a frame decoded (until one decodes, the carrier search waits for each)
            assert spec["taken"] >= 1
            if modcod == "16APSK 2/3":  # frames that decode and fail in turn: guesses go wrong and are taken back
                assert spec["rolled_back"] >= 1


def test_decode_threads_must_not_be_negative():
    with pytest.raises(InputError, match="decode_threads"):
        Receiver(decode_threads=-1)


def _slow_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decoder slower than the synchronisation, whatever the machine: every guess is taken."""
    import linksim.dvbs2.decode_pool as dp

    slow = dp.decode_frame

    def slow_decode(*a: object) -> object:
        time.sleep(0.02)
        return slow(*a)

    monkeypatch.setattr(dp, "decode_frame", slow_decode)


def _mixed_stream(seed: int, esn0_db: float = 3.0) -> np.ndarray:
    """ACM: DVB-S2 and DVB-S2X VL-SNR frames of both sets in one stream at Es/N0 3 dB: 8PSK 3/4 fails among
    frames that decode, so the outcome changes from frame to frame."""
    from linksim.dvbs2.tx import Transmitter

    tx = Transmitter(sps=2, stream="generic")
    seq = ["QPSK 1/2", "BPSK-S 1/5", "8PSK 3/4", "BPSK 1/3 short", "QPSK 2/9", "QPSK 1/4", "BPSK 11/45", "QPSK 1/2",
           "QPSK 2/9", "QPSK 3/5"]
    rng = np.random.default_rng(seed)
    syms = [tx.frame_symbols(m, rng.integers(0, 256, tx.frame_capacity_bytes(m), np.uint8).tobytes()) for m in seq]
    x = np.concatenate([tx.shape(np.concatenate(syms)), tx.flush()])
    x = x * np.exp(2j * np.pi * 0.004 * np.arange(x.size))
    n0 = 2 / 10 ** (esn0_db / 10)
    return (x + (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)) * np.sqrt(n0 / 2)).astype(
        np.complex64)


@pytest.mark.parametrize("block", [65536, 40009])
def test_vlsnr_frames_on_the_pool_give_the_one_thread_results(block, monkeypatch):
    """Receiver(vlsnr=True) on a mixed DVB-S2/VL-SNR stream: the pool (guesses taken, some taken back) and the
    front end ahead give every report, TS packet and data field of the one-thread receiver."""
    x = _mixed_stream(21)
    ref, ref_stats, ref_reps, _ = _run(x, block, vlsnr=True)
    got_ok = {r.modcod: r.ok for r in ref_reps}
    # every VL-SNR frame of both sets decodes, 8PSK 3/4 (threshold 7.9 dB) fails
    assert all(got_ok.get(m) for m in ("BPSK-S 1/5", "BPSK 1/3 short", "QPSK 2/9", "BPSK 11/45")), got_ok
    assert got_ok.get("8PSK 3/4") is False, got_ok
    _slow_decoder(monkeypatch)
    for kw in ({"decode_threads": 2}, {"decode_threads": 1, "pipeline": True}):
        got, stats, reps, spec = _run(x, block, vlsnr=True, **kw)
        assert got == ref, kw
        assert stats == ref_stats, kw
        assert [r.cfo_cyc for r in reps] == [r.cfo_cyc for r in ref_reps]
        assert spec["taken"] >= 1 and spec["rolled_back"] >= 1  # guesses taken, the wrong one taken back


def test_blanker_erasures_on_the_pool_give_the_one_thread_results(monkeypatch):
    """Pulses blanked by linksim.mitigation's blanker, its erasure mask fed beside the samples: the pool (guesses
    taken, some taken back: the blanker's runs must still be there when frames are synchronised again) and the
    front end ahead give the one-thread receiver's reports, Es/N0 estimates and TS."""
    from linksim.channel import jammers as jw
    from linksim.channel.core import Channel, ChannelProfile, JammerSpec
    from linksim.mitigation.blanking import PulseBlanker

    m = "QPSK 1/2"
    x = late_stream(m, 40.0, 10, 30_000, 0.01, 9)  # clean; the channel adds the noise and the pulses
    pulsed = jw.PulsedJammer(base=jw.BarrageJammer(bandwidth_hz=1.2e6), duty=0.1, prf_hz=10e3)
    ch = Channel(2e6, 2, ChannelProfile.constant(esn0_db=modcods.get(m).esn0_qef_db + 1.0, duration_s=10.0),
                 jammers=[JammerSpec(pulsed, 10.0)], seed=4)
    bl = PulseBlanker()
    parts = [bl.process(ch.process(x).astype(np.complex64)), bl.flush()]
    y, mask = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    ref, ref_stats, ref_reps, _ = _run(y, 65536, mask)
    oks = [r.ok for r in ref_reps if r.modcod == m]
    assert any(oks) and not all(oks), oks  # frames decode and fail in turn: guesses go both ways
    _slow_decoder(monkeypatch)
    for kw in ({"decode_threads": 2}, {"decode_threads": 1, "pipeline": True}):
        got, stats, reps, spec = _run(y, 65536, mask, **kw)
        assert got == ref, kw
        assert stats == ref_stats, kw
        assert spec["taken"] >= 1 and spec["rolled_back"] >= 1, spec
