"""In-process DVB-S2 link: Transmitter -> carrier offset, timing offset, AWGN -> Receiver, with frame and bit counts.

Used by `linksim dvbs2 ber`, the tests and the FER benchmark. Each transmitted BBFRAME carries exactly its
capacity of random bytes (generic continuous stream), so every received frame can be compared bit by bit.
Es/N0 is per symbol: the transmitter's samples have unit mean power, so the complex noise variance per sample
is sps / (Es/N0).

A frame counts as received correctly only when the receiver accepts it (LDPC converged, BCH decoded, BBHEADER
CRC matched) AND its data field equals what was sent: a frame the receiver accepts with bit errors is a frame
error, counted again apart as an undetected error (LinkResult.undetected_errors, AcmFrame.undetected).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, check_number
from .params import RX_LDPC_ITERATIONS, frame_params
from .rx import FrameReport, Receiver
from .tx import Transmitter


@dataclass
class LinkResult:
    """Counts of one run. fer = frame_errors / frames; frames = frames transmitted; frame_errors = frames not
    received correctly: missed (the receiver never reported them), failed (the receiver said so) and
    undetected_errors (the receiver accepted them, but their data differ from what was sent). bit_errors counts
    errors in the data fields of the frames received (a failed frame's decoded bits are compared too).
    spurious: frames the receiver reported where none was sent (not in the FER). esn0_est_db: mean of the
    receiver's per-frame estimates. decode_mbps: information bits of the frames decoded correctly per second of
    receiver processing time."""

    modcod: str
    esn0_db: float
    sync: str
    frames: int
    frame_errors: int
    missed: int
    info_bits: int
    bit_errors: int
    esn0_est_db: float
    decode_mbps: float
    rx_seconds: float
    symbols: int
    mean_ldpc_iterations: float
    reports: list[FrameReport] = field(default_factory=list, repr=False)
    undetected_errors: int = 0
    spurious: int = 0

    @property
    def fer(self) -> float:
        return self.frame_errors / self.frames if self.frames else float("nan")

    @property
    def ber(self) -> float:
        return self.bit_errors / self.info_bits if self.info_bits else float("nan")

    @property
    def symbols_per_second(self) -> float:
        return self.symbols / self.rx_seconds if self.rx_seconds > 0 else float("inf")

    def as_dict(self) -> dict:
        return {
            "modcod": self.modcod, "esn0_db": self.esn0_db, "sync": self.sync, "frames": self.frames,
            "frame_errors": self.frame_errors, "fer": self.fer, "undetected_errors": self.undetected_errors,
            "missed": self.missed, "spurious": self.spurious, "info_bits": self.info_bits,
            "bit_errors": self.bit_errors, "ber": self.ber, "esn0_est_db": self.esn0_est_db,
            "decode_mbps": self.decode_mbps, "rx_seconds": self.rx_seconds,
            "rx_symbols_per_second": self.symbols_per_second, "mean_ldpc_iterations": self.mean_ldpc_iterations,
        }


def fractional_delay(x: np.ndarray, delay_samples: float, ntaps: int = 33) -> np.ndarray:
    """Delay by a fraction of a sample with a windowed-sinc FIR (the integer part of the FIR delay removed)."""
    if delay_samples == 0:
        return x
    k = np.arange(ntaps) - (ntaps - 1) / 2
    h = np.sinc(k - delay_samples) * np.kaiser(ntaps, 8.0)
    h /= h.sum()
    y = np.convolve(x, h.astype(np.complex64))
    half = (ntaps - 1) // 2
    return y[half : half + x.size].astype(np.complex64)


def late_stream(modcod: str, esn0_db: float, frames: int, lead_samples: int, cfo_cyc: float,
                seed: int) -> np.ndarray:
    """`lead_samples` of noise, then `frames` random frames of `modcod` (normal, pilots) with a carrier offset of
    cfo_cyc cycles/symbol and a 0.37-sample timing offset, one noise level throughout (Es/N0 esn0_db), 2 samples
    per symbol: a receiver started before its transmitter (or, with lead_samples=0, an ordinary capture)."""
    rng = np.random.default_rng(seed)
    tx = Transmitter(sps=2, stream="generic")
    cap = tx.frame_capacity_bytes(modcod)
    syms = [tx.frame_symbols(modcod, rng.integers(0, 256, cap, dtype=np.uint8).tobytes()) for _ in range(frames)]
    x = np.concatenate([np.zeros(lead_samples, np.complex64), tx.shape(np.concatenate(syms)), tx.flush()])
    x = fractional_delay((x * np.exp(1j * np.pi * cfo_cyc * np.arange(x.size))).astype(np.complex64), 0.37)
    rng = np.random.default_rng(seed + 1)
    n0 = 2 / 10 ** (esn0_db / 10)
    noise = (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)) * np.sqrt(n0 / 2)
    return (x + noise).astype(np.complex64)


def max_cfo_hz(symbol_rate_baud: float, sps: float, rolloff: float) -> float:
    """The largest carrier offset that keeps the whole RRC spectrum ((1 + rolloff) x symbol rate wide) inside the
    sampled band sps x symbol rate: beyond it the band edge aliases."""
    return (sps - (1.0 + rolloff)) / 2.0 * symbol_rate_baud


def run_link(modcod: str, esn0_db: float, frames: int = 20, sync: str = "full", cfo_hz: float = 0.0,
             symbol_rate_baud: float = 1e6, sps: int = 2, rolloff: float = 0.2, seed: int = 0,
             pilots: bool = True, frame: str = "normal", max_iter: int = RX_LDPC_ITERATIONS,
             timing_offset_samples: float = 0.0,
             gold_code: int = 0, batch_frames: int = 8, keep_reports: bool = False,
             demapper: str = "maxlog", vlsnr: bool | None = None,
             transform: Callable[[np.ndarray], np.ndarray] | None = None, transform_latency_samples: int = 0,
             ring_geometry: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] | None = None) -> LinkResult:
    """Send `frames` PLFRAMEs of `modcod` through AWGN at `esn0_db` and count what the receiver gets right.
    vlsnr: the receiver looks for DVB-S2X VL-SNR frames too (default: when `modcod` is a VL-SNR MODCOD).
    `transform`, if given, is applied to the transmitted samples before the noise, chunk by chunk in order (a
    device such as linksim.channel.amplifier.Amplifier.process, whose output must keep unit mean power for esn0_db
    to hold); it delays the stream by transform_latency_samples. ring_geometry: the transmitter's pre-distorted
    APSK rings (Transmitter.ring_geometry)."""
    if frames < 1:
        raise InputError(f"frames must be >= 1, not {frames}")
    check_number("link", "esn0_db", esn0_db, unit="dB")
    check_number("link", "symbol_rate_baud", symbol_rate_baud, 0.0, lo_open=True, unit="Bd")
    lim = max_cfo_hz(symbol_rate_baud, sps, rolloff)
    check_number("link", "cfo_hz", cfo_hz, -lim, lim, unit="Hz")
    check_number("link", "timing_offset_samples", timing_offset_samples, -1.0, 1.0)
    if sync == "genie" and (cfo_hz or timing_offset_samples):
        raise InputError("genie sync has perfect carrier and timing: use --sync full with a carrier offset")
    p = frame_params(modcod, frame, pilots)
    rng = np.random.default_rng(seed)
    tx = Transmitter(frame=frame, pilots=pilots, rolloff=rolloff, sps=sps, gold_code=gold_code, stream="generic")
    tx.ring_geometry = dict(ring_geometry or {})
    vlsnr = p.vlsnr is not None if vlsnr is None else vlsnr
    rx = Receiver(sps=sps, rolloff=rolloff, gold_code=gold_code, max_iter=max_iter, sync=sync, demapper=demapper,
                  vlsnr=vlsnr)
    rx.keep_raw_field = True
    cap = tx.frame_capacity_bytes(p.modcod)
    sent: list[tuple[int, bytes]] = []  # (first sample of the frame's PLHEADER peak, data field bytes)
    stream_bits = np.zeros(0, dtype=np.uint8)
    n0 = sps / 10 ** (esn0_db / 10)
    f_per_sample = cfo_hz / (symbol_rate_baud * sps)
    sample = 0
    symbol = 0
    reports: list[FrameReport] = []
    rx_time = 0.0
    done = 0
    while done < frames or sample >= 0:
        last = done >= frames
        if not last:
            nb = min(batch_frames, frames - done)
            syms = []
            for _ in range(nb):
                data = rng.integers(0, 256, cap, dtype=np.uint8).tobytes()
                # the frame carries the next data_field_bits of the stream (medium frames: a nibble carries over)
                stream_bits = np.concatenate([stream_bits, np.unpackbits(np.frombuffer(data, np.uint8))])
                sent.append((symbol, np.packbits(stream_bits[: p.data_field_bits]).tobytes()))
                stream_bits = stream_bits[p.data_field_bits :]
                s = tx.frame_symbols(p.modcod, data)
                syms.append(s)
                symbol += s.size
            x = tx.shape(np.concatenate(syms))
            done += nb
        else:
            x = tx.flush()
        if transform is not None:
            x = np.asarray(transform(x), dtype=np.complex64)
        n = np.arange(sample, sample + x.size)
        if f_per_sample:
            x = x * np.exp(2j * np.pi * f_per_sample * n).astype(np.complex64)
        x = fractional_delay(x, timing_offset_samples) if timing_offset_samples else x
        noise = rng.standard_normal((x.size, 2), dtype=np.float32) * np.float32(np.sqrt(n0 / 2))
        x = (x + noise.view(np.complex64).reshape(-1)).astype(np.complex64)
        sample += x.size
        t0 = time.perf_counter()
        reports += rx.process(x)
        if last:
            reports += rx.flush()
        rx_time += time.perf_counter() - t0
        if last:
            break
    return _score(p.modcod, esn0_db, sync, sent, reports, tx.delay_samples + transform_latency_samples, sps,
                  timing_offset_samples, rx_time,
                  symbol, p.data_field_bits, keep_reports)


def _score(modcod: str, esn0_db: float, sync: str, sent: list[tuple[int, bytes]], reports: list[FrameReport],
           delay: int, sps: int, timing_offset: float, rx_time: float, symbols: int, field_bits: int,
           keep: bool) -> LinkResult:
    starts = np.array([s for s, _ in sent], dtype=np.float64) * sps + delay + timing_offset
    matched: list[FrameReport | None] = [None] * len(sent)
    spurious = 0
    for r in reports:
        if r.modcod == "DUMMY":
            continue
        i = int(np.argmin(np.abs(starts - r.sample_index)))
        if abs(starts[i] - r.sample_index) <= 4 * sps and matched[i] is None:
            matched[i] = r
        else:
            spurious += 1
    frame_errors = 0
    undetected = 0
    bit_errors = 0
    info_bits = 0
    good_bits = 0
    iters = []
    for (_, data), r in zip(sent, matched, strict=True):
        info_bits += field_bits
        if r is None:
            frame_errors += 1
            continue
        iters.append(r.ldpc_iterations)
        e = data_bit_errors(data, r.payload if r.ok else r.raw_field)
        bit_errors += e
        if not r.ok or e:
            frame_errors += 1  # the receiver's verdict is not the measure: the data are
            undetected += int(r.ok)
        else:
            good_bits += field_bits
    est = [r.esn0_est_db for r in matched if r is not None and np.isfinite(r.esn0_est_db)]
    return LinkResult(
        modcod=modcod, esn0_db=esn0_db, sync=sync, frames=len(sent), frame_errors=frame_errors,
        missed=sum(1 for r in matched if r is None), info_bits=info_bits, bit_errors=bit_errors,
        esn0_est_db=float(10 * np.log10(np.mean(10 ** (np.array(est) / 10)))) if est else float("nan"),
        decode_mbps=good_bits / rx_time / 1e6 if rx_time > 0 else float("nan"), rx_seconds=rx_time,
        symbols=symbols, mean_ldpc_iterations=float(np.mean(iters)) if iters else float("nan"),
        reports=reports if keep else [], undetected_errors=undetected, spurious=spurious,
    )


def data_bit_errors(sent: bytes, received: bytes) -> int:
    """Bits in which `received` differs from `sent` over len(sent) bytes (missing bytes count as zeros)."""
    a = np.frombuffer(sent, dtype=np.uint8)
    b = np.frombuffer(received[: len(sent)], dtype=np.uint8) if received else np.zeros(0, np.uint8)
    if b.size < a.size:
        b = np.concatenate([b, np.zeros(a.size - b.size, np.uint8)])
    return int(np.unpackbits(a ^ b).sum())


@dataclass
class AcmFrame:
    """One frame of an ACM run: start time (s, sample clock), MODCOD sent, true Es/N0 over the frame (dB),
    received correctly (accepted by the receiver with the MODCOD and data sent), information bits, the
    receiver's Es/N0 estimate (dB), symbols; undetected: the receiver accepted the frame but its MODCOD or data
    differ from what was sent (an error, so ok is False)."""

    t_s: float
    modcod: str
    esn0_db: float
    ok: bool
    info_bits: int
    esn0_est_db: float
    symbols: int
    undetected: bool = False


def run_acm_link(esn0_db_at, duration_s: float, controller, symbol_rate_baud: float = 50e3, sps: int = 2,
                 frame: str = "short", pilots: bool = True, rolloff: float = 0.2, seed: int = 0,
                 max_iter: int = RX_LDPC_ITERATIONS) -> list[AcmFrame]:
    """TX -> fading AWGN channel -> RX with the MODCOD of every frame chosen by `controller`
    (acm.ModcodController) from the receiver's Es/N0 reports, delivered over its delayed return path.

    esn0_db_at(t_s: ndarray) -> Es/N0 in dB at sample-clock times t_s: the signal is attenuated (noise power
    fixed), sample by sample. Each frame's report enters the return path when the receiver has the whole frame.
    Returns one AcmFrame per frame sent (frames the receiver never reported count as failed).
    """
    check_number("link", "duration_s", duration_s, 0.0, lo_open=True, unit="s")
    check_number("link", "symbol_rate_baud", symbol_rate_baud, 0.0, lo_open=True, unit="Bd")
    rng = np.random.default_rng(seed)
    tx = Transmitter(frame=frame, pilots=pilots, rolloff=rolloff, sps=sps, stream="generic", ccm=False)
    rx = Receiver(sps=sps, rolloff=rolloff, max_iter=max_iter)
    fs = symbol_rate_baud * sps
    n0 = float(sps)  # Es/N0 = 0 dB at unit signal power; the signal is scaled to the wanted Es/N0
    sent: list[tuple[int, str, float, int, bytes]] = []  # (first symbol, modcod, mean Es/N0 dB, symbols, data)
    got: dict[int, FrameReport] = {}
    sample = 0
    symbol = 0
    delay = tx.delay_samples

    def take(reports: list[FrameReport]) -> None:
        for r in reports:
            if r.modcod == "DUMMY":
                continue
            k = int(round((r.sample_index - delay) / sps))
            got[k] = r
            p = frame_params(r.modcod, r.frame, r.pilots)
            t_done = (r.sample_index + p.plframe_symbols * sps) / fs
            controller.report(t_done, r.esn0_est_db)

    while symbol / symbol_rate_baud < duration_s:
        t0 = symbol / symbol_rate_baud
        m = controller.select(t0)
        p = frame_params(m, frame, pilots)
        data = rng.integers(0, 256, p.data_field_bits // 8, dtype=np.uint8).tobytes()
        s = tx.frame_symbols(m, data)
        x = tx.shape(s)
        t = (sample + np.arange(x.size)) / fs
        esn0 = np.asarray(esn0_db_at(t), dtype=float)
        sent.append((symbol, m, float(10 * np.log10(np.mean(10 ** (esn0 / 10)))), s.size, data))
        g = np.sqrt(10 ** (esn0 / 10)).astype(np.float32)
        noise = rng.standard_normal((x.size, 2), dtype=np.float32) * np.float32(np.sqrt(n0 / 2))
        y = x * g + noise.view(np.complex64).reshape(-1)
        sample += x.size
        symbol += s.size
        take(rx.process(y.astype(np.complex64)))
    tail = tx.flush()
    g_end = np.float32(np.sqrt(10 ** (float(np.asarray(esn0_db_at(np.array([sample / fs])))[0]) / 10)))
    noise = rng.standard_normal((tail.size, 2), dtype=np.float32) * np.float32(np.sqrt(n0 / 2))
    take(rx.process((tail * g_end + noise.view(np.complex64).reshape(-1)).astype(np.complex64)))
    take(rx.flush())
    out = []
    for first, m, e, nsym, data in sent:
        r = got.get(first)
        p = frame_params(m, frame, pilots)
        accepted = r is not None and r.ok
        ok = accepted and r.modcod == m and data_bit_errors(data, r.payload) == 0  # type: ignore[union-attr]
        out.append(AcmFrame(first / symbol_rate_baud, m, e, ok, p.data_field_bits if ok else 0,
                            r.esn0_est_db if r is not None else float("nan"), nsym, undetected=accepted and not ok))
    return out
