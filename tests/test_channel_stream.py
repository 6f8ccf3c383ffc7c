"""The channel on several threads and the file-to-file stream: same bytes whatever the thread count and the chunks,
input power from the first seconds (no second pass), errors from the reader/writer threads raised, the CLI's
--threads and --power-window-s.

Authority: the single-threaded, whole-array Channel.process (bit-identical output), and the definition of mean power.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from linksim.channel.core import Channel, ChannelProfile, JammerSpec, measure_power
from linksim.channel.fading import RicianFading
from linksim.channel.jammers import BarrageJammer, CWJammer, FollowerJammer, ModulatedJammer, PulsedJammer
from linksim.channel.parallel import split_points
from linksim.channel.phase_noise import PhaseNoise
from linksim.channel.stream import stream_channel
from linksim.cli import main
from linksim.errors import InputError
from linksim.iqfile import IQReader, read_iq, write_iq

FS = 2e6


def qpsk(n: int, sps: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, -(-n // sps))))
    return np.repeat(s, sps)[:n].astype(np.complex64)


def full_channel(threads: int, seed: int = 3) -> Channel:
    """Every stage: time-varying gain, Doppler, delay and Es/N0, fading, phase noise, and jammers of each kind
    (a follower in the middle, so the piecewise and the whole-chunk jammer paths both run)."""
    t = np.linspace(0, 1.0, 7)
    prof = ChannelProfile(time_s=t, gain_db=-3 + np.sin(3 * t), doppler_hz=2000 * np.cos(t) + 300 * t,
                          delay_s=2e-4 + 3e-5 * t, esn0_db=8 + 3 * t)
    jams = [
        JammerSpec(CWJammer(25_000.0), -2.0),
        JammerSpec(BarrageJammer(300e3, -100e3), (t, -4 + 2 * t)),  # direct-form FIR (piecewise)
        JammerSpec(FollowerJammer(200e3, 0.0, 2e-4, 1e-4), -3.0),
        JammerSpec(BarrageJammer(20e3, 50e3), -6.0),  # long FIR: FFT batches (whole chunk)
        JammerSpec(PulsedJammer(ModulatedJammer(100e3, 4, 0.25, 300e3), 0.3, 1500.0), 0.0),
    ]
    return Channel(FS, 4, prof, fading=RicianFading(3.0, 200.0),
                   phase_noise=PhaseNoise(10.0, ((1e3, -70.0), (1e5, -100.0))), jammers=jams, seed=seed,
                   max_delay_s=1e-3, threads=threads)


def test_split_points_fall_on_block_boundaries():
    cuts = split_points(1000, 1_000_000, 256, 8, min_len=1000)
    assert cuts[0] == 0 and cuts[-1] == 1_000_000 and len(cuts) == 9
    assert all((1000 + c) % 256 == 0 for c in cuts[1:-1])
    assert split_points(0, 5000, 256, 8, min_len=4096) == [0, 5000]


def test_same_bytes_whatever_the_thread_count_and_chunks():
    x = qpsk(700_000)
    ref = full_channel(1).process(x)
    rng = np.random.default_rng(5)
    for threads in (2, 3):
        ch = full_channel(threads)
        parts, i = [], 0
        while i < x.size:
            k = int(rng.choice([1, 255, 257, 4096, 65_537, int(rng.integers(1, 300_000))]))
            parts.append(ch.process(x[i : i + k]))
            i += k
        assert np.array_equal(np.concatenate(parts), ref), threads
    # the signal, noise and jammer powers the channel accumulates agree with the parts it returns
    ch = full_channel(2)
    p = ch.process_parts(x)
    s_pow, n_pow, j_pows = ch.mean_powers()
    assert s_pow == pytest.approx(measure_power(p.signal), rel=1e-5)
    assert n_pow == pytest.approx(measure_power(p.noise), rel=1e-5)
    assert j_pows == pytest.approx([measure_power(j) for j in p.jammers], rel=1e-5)


def test_output_buffer_is_used_and_checked():
    x = qpsk(10_000)
    out = np.empty(10_000, np.complex64)
    y = Channel(FS, 4, ChannelProfile.constant(esn0_db=5.0), seed=1).process(x, out=out)
    assert y is out and np.array_equal(out, Channel(FS, 4, ChannelProfile.constant(esn0_db=5.0), seed=1).process(x))
    with pytest.raises(InputError, match="output buffer"):
        Channel(FS).process(x, out=np.empty(5, np.complex64))


def _array_source(x: np.ndarray):
    pos = [0]

    def read_into(buf: np.ndarray) -> int:
        k = min(buf.size, x.size - pos[0])
        buf[:k] = x[pos[0] : pos[0] + k]
        pos[0] += k
        return k

    return read_into


def test_stream_equals_the_channel_and_measures_power_on_the_first_samples():
    x = qpsk(300_000) * np.float32(0.5)
    x[200_000:] *= 3  # louder later: only the first 150 000 samples set the calibration
    got: list[np.ndarray] = []

    def make(p: float) -> Channel:
        return Channel(FS, 4, ChannelProfile.constant(gain_db=-1.0, doppler_hz=700.0, esn0_db=6.0),
                       input_power=p, seed=9, threads=2)

    res = stream_channel(_array_source(x), lambda y: got.append(y.copy()), make, power_samples=150_000,
                         chunk=40_000, depth=2)
    assert res.samples == x.size and res.input_power_measured
    assert res.input_power == pytest.approx(measure_power(x[:160_000]), rel=1e-6)  # whole chunks: 4 x 40 000
    assert np.array_equal(np.concatenate(got), make(res.input_power).process(x))
    # a declared power is used as given
    got.clear()
    res = stream_channel(_array_source(x), lambda y: got.append(y.copy()), make, input_power=0.7, chunk=65_536)
    assert res.input_power == 0.7 and not res.input_power_measured
    assert np.array_equal(np.concatenate(got), make(0.7).process(x))


def test_stream_errors_reach_the_caller():
    x = qpsk(200_000)

    def make(p: float) -> Channel:
        return Channel(FS, 4, ChannelProfile.constant(esn0_db=6.0), input_power=p)

    def bad_write(y: np.ndarray) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        stream_channel(_array_source(x), bad_write, make, chunk=20_000)

    def bad_read(buf: np.ndarray) -> int:
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output"):
        stream_channel(bad_read, lambda y: None, make, chunk=20_000)
    with pytest.raises(InputError, match="all zeros"):
        stream_channel(_array_source(np.zeros(50_000, np.complex64)), lambda y: None, make, chunk=20_000,
                       power_samples=30_000, what="--in z.cf32")


def test_iqstream_reads_every_datatype(tmp_path):
    x = qpsk(10_001) * np.float32(0.25)
    write_iq(tmp_path / "a.cf32", x)
    with IQReader(tmp_path / "a.cf32").open_stream() as s:
        buf = np.empty(4096, np.complex64)
        parts = []
        while (k := s.read_into(buf)) > 0:
            parts.append(buf[:k].copy())
    assert np.array_equal(np.concatenate(parts), x)
    # ci16 SigMF: integers scaled to [-1, 1), as IQReader's iteration does
    raw = np.round(np.stack([x.real, x.imag], axis=1).reshape(-1) * 32767).astype("<i2")
    (tmp_path / "b.sigmf-data").write_bytes(raw.tobytes())
    (tmp_path / "b.sigmf-meta").write_text(json.dumps({"global": {"core:datatype": "ci16_le",
                                                                  "core:sample_rate": 1e6}, "captures": [{}]}))
    r = IQReader(tmp_path / "b.sigmf-meta")
    with r.open_stream() as s:
        buf = np.empty(3000, np.complex64)
        parts = []
        while (k := s.read_into(buf)) > 0:
            parts.append(buf[:k].copy())
    assert np.array_equal(np.concatenate(parts), r.read_all())


def test_cli_threads_give_the_same_file_and_the_power_window(tmp_path, capsys):
    x = qpsk(2_500_000) * np.float32(0.5)
    x[1_200_000:] *= 2  # louder after the first 1.2 s
    inp = tmp_path / "in.cf32"
    write_iq(inp, x)
    common = ["channel", "--in", str(inp), "--sample-rate", "1e6", "--sps", "4", "--esn0-db", "7", "--doppler-hz",
              "321", "--jammer", "type=cw,js_db=-5,offset_hz=2e4", "--fading", "rician:K=4,doppler_hz=20",
              "--power-window-s", "0.5", "--json"]
    outs = []
    for th in ("1", "2"):
        out = tmp_path / f"o{th}.cf32"
        assert main([*common, "--out", str(out), "--threads", th]) == 0
        d = json.loads(capsys.readouterr().out)
        outs.append(read_iq(out)[0])
    assert np.array_equal(outs[0], outs[1])
    # the power is measured on the first 0.5 s, in whole chunks of 2^20 samples: the quiet part only
    assert d["input_power_measured"] is True and d["threads"] == 2
    assert d["input_power_db"] == pytest.approx(10 * np.log10(measure_power(x[: 1 << 20])), abs=1e-4)
    assert d["input_power_db"] == pytest.approx(10 * np.log10(0.25), abs=1e-3)
    assert main([*common, "--out", str(tmp_path / "o.cf32"), "--threads", "0"]) == 2
    assert "--threads" in capsys.readouterr().err
    assert main([*common, "--out", str(tmp_path / "o.cf32"), "--power-window-s", "0"]) == 2
    assert "--power-window-s" in capsys.readouterr().err


def test_measure_power_sums_complex64_in_float64() -> None:
    """The in-place power sum (no temporaries) against the float64 formula, on odd lengths and a 60 dB spread."""
    rng = np.random.default_rng(3)
    for n in (1, 7, 8, 1001, 65537):
        x = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * 10 ** rng.uniform(-3, 3, n)).astype(np.complex64)
        ref = float(np.mean(x.real.astype(np.float64) ** 2 + x.imag.astype(np.float64) ** 2))
        assert measure_power(x) == pytest.approx(ref, rel=1e-12)
    assert measure_power(np.ones(4, np.complex128)) == 1.0


def test_first_power_takes_the_whole_chunks_that_cover_n():
    from linksim.channel.stream import first_power

    taken = []

    def chunks():
        for a in (1.0, 2.0, 3.0, 4.0):
            taken.append(a)
            yield np.full(10, a, dtype=np.complex64)

    p, got = first_power(chunks(), 15)  # the first two chunks cover 15 samples: powers 1 and 4
    assert (p, got) == (2.5, 20) and taken == [1.0, 2.0]
    assert first_power(iter([]), 5)[1] == 0 and np.isnan(first_power(iter([]), 5)[0])
