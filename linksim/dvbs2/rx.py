"""DVB-S2 receiver (ETSI EN 302 307-1): complex baseband samples in, per-frame reports and TS packets out.

Chain: RRC matched filter -> Gardner timing recovery -> PLHEADER search (differential correlation) -> soft PLSC
decoding (each frame gives its own MODCOD, frame size, pilots) -> carrier frequency (header/pilot
autocorrelation, Luise & Reggiannini) -> phase PLL (data-aided on header and pilots, decision-directed on data)
-> PL descrambling -> Es/N0 (from header and pilots) -> soft demapping -> deinterleaving -> LDPC -> BCH ->
BB descrambling -> BBHEADER CRC -> TS packets.

DVB-S2X VL-SNR (EN 302 307-2; Receiver(vlsnr=True)): while searching, the 990 known symbols that start a VL-SNR
frame (PLHEADER + VL-SNR header) are looked for first (`vlsnr_sync`: multi-lag differential correlation, then a
coherent check that names the MODCOD and measures the carrier offset), down to Es/N0 = -10 dB; when locked, each
expected header is checked for a VL-SNR header before it is read as a DVB-S2 PLHEADER, so the two mix in one
stream (ACM). A VL-SNR frame's carrier and phase come from its header and its regular and extra pilots; its
pi/2-BPSK(-S) or QPSK symbols are demapped, the shortened and punctured bits restored, and the LDPC mother code
decoded (the same 25 layered iterations).

`Receiver.process(samples)` accepts blocks of any size and returns the frames completed so far; `flush()` ends the
stream and returns everything still inside (nothing is held back). Every detected PLFRAME gives one
`FrameReport`, failed ones included. `process(samples, erasures=mask)` also takes a pulse blanker's mask (True where
samples were blanked, `linksim.dvbs2.erasure`): the symbols they spoil get zero LLRs and stay out of the estimates.

sync="genie" gives the receiver perfect timing, carrier frequency and phase and the frame start: the first
PLFRAME's first symbol peaks at input sample `genie_delay_samples` (default: the delay of `rrc.RrcInterpolator`,
span/2 symbols) and frames follow back to back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..errors import InputError
from . import vlsnr as vl
from .bbframe import TS_PACKET_BYTES, TS_SYNC, BbHeader, crc8_rows
from .constellations import constellation
from .decode_pool import RESET, ParallelFrames, Rollback
from .erasure import ErasureRuns
from .interleave import deinterleave_llrs
from .params import MODCOD_NAMES, RX_LDPC_ITERATIONS, FrameParams, frame_params
from .plframe import PILOT_SYMBOL, pilot_mask
from .rrc import DEFAULT_SPAN_SYMBOLS, DVBS2_ROLLOFFS
from .scrambling import pl_scrambling_sequence
from .sync import (
    PLHEADER_SYMBOLS,
    GardnerTiming,
    MatchedFilter,
    coarse_offset_psd,
    coherent_header_check,
    combined_offset_phasor,
    decode_plsc,
    derotate,
    header_metric,
    header_symbols,
    pilot_phase_fit,
    sof_metric,
    soft_demap,
    track_phase,
)
from .vlsnr_sync import block_phase, coherent_check, differential_search

MIN_BLOCK_SYMBOLS = 256  # below this the chain's per-block cost dominates (and a PLHEADER is 90 symbols)


def check_block_symbols(block_symbols: int | None) -> int:
    """A receiver's block in symbols: None gives Receiver.BLOCK_SYMBOLS; else an integer >= MIN_BLOCK_SYMBOLS."""
    if block_symbols is None:
        return Receiver.BLOCK_SYMBOLS
    if isinstance(block_symbols, bool) or int(block_symbols) != block_symbols or block_symbols < MIN_BLOCK_SYMBOLS:
        raise InputError(f"block_symbols must be an integer >= {MIN_BLOCK_SYMBOLS}, not {block_symbols}")
    return int(block_symbols)


class BlockStager:
    """Cuts a stream fed in pieces of any size into blocks of `size` samples at fixed input indices (what makes a
    receiver's output independent of how its input was cut); the rest waits for the next call, or for rest()."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self._parts: list[np.ndarray] = []
        self._n = 0

    def blocks(self, x: np.ndarray) -> list[np.ndarray]:
        """The whole blocks that x completes (views of x where they can be)."""
        if self._n + x.size < self.size:
            self._parts.append(x.copy())  # the caller may reuse its buffer
            self._n += x.size
            return []
        buf = np.concatenate([*self._parts, x]) if self._parts else x
        nb = buf.size // self.size
        rest = buf[nb * self.size :]
        self._parts = [rest.copy()] if rest.size else []
        self._n = rest.size
        return [buf[i * self.size : (i + 1) * self.size] for i in range(nb)]

    def rest(self) -> np.ndarray:
        """What is left (less than a block), emptying the stager: the end of the stream."""
        out = np.concatenate(self._parts) if self._parts else np.zeros(0, dtype=np.complex64)
        self._parts, self._n = [], 0
        return out



DUMMY = "DUMMY"
DUMMY_SYMBOLS = PLHEADER_SYMBOLS + 36 * 90
MAX_PLFRAME_SYMBOLS = frame_params("QPSK 1/4", "normal", True).plframe_symbols  # 33282


@dataclass
class FrameReport:
    """One received PLFRAME.

    sample_index: input sample (counted from the first sample given) where the first PLHEADER symbol peaks.
    modcod: "QPSK 1/2" ... or "DUMMY"; frame: "normal" | "short"; pilots: pilot blocks present.
    ldpc_iterations: LDPC iterations used; bch_corrected: bit errors the BCH decoder corrected (-1: not run).
    ok: LDPC converged, BCH decoded and BBHEADER CRC-8 matched. esn0_est_db: Es/N0 measured on the PLHEADER and
    pilots (MER). cfo_cyc: carrier offset estimate in cycles per symbol. payload: the BBFRAME data field (bytes,
    empty if not ok; a DVB-S2X medium frame's half byte at the end padded with zeros). ts: the TS packets completed
    by this frame (188-byte packets, sync bytes restored). frame: "normal", "short" or (VL-SNR) "medium".
    """

    sample_index: int
    modcod: str
    frame: str
    pilots: bool
    pls_code: int
    ldpc_iterations: int
    bch_corrected: int
    ok: bool
    esn0_est_db: float
    cfo_cyc: float = 0.0
    payload: bytes = b""
    ts: bytes = b""
    bbheader: BbHeader | None = None
    ts_crc_errors: int = 0
    truncated: bool = False
    info_bits: int = field(default=0)
    raw_field: bytes = field(default=b"", repr=False)  # decoded data field even if not ok (keep_raw_field)
    emitted_after: int = 0  # input samples the receiver had processed when it made this report (block multiple)

    @property
    def ts_packets(self) -> list[bytes]:
        return [self.ts[i : i + TS_PACKET_BYTES] for i in range(0, len(self.ts), TS_PACKET_BYTES)]

    def as_dict(self) -> dict:
        return {
            "sample_index": self.sample_index, "modcod": self.modcod, "frame": self.frame, "pilots": self.pilots,
            "ldpc_iterations": self.ldpc_iterations, "bch_corrected": self.bch_corrected, "ok": self.ok,
            "esn0_est_db": self.esn0_est_db, "cfo_cyc": self.cfo_cyc, "payload_bytes": len(self.payload),
            "ts_packets": len(self.ts) // TS_PACKET_BYTES, "ts_crc_errors": self.ts_crc_errors,
        }


def _pls_params(pls: int) -> FrameParams | None:
    """FrameParams of a PLS code; None for DUMMY (MODCOD 0). Raises KeyError for reserved MODCODs 29..31."""
    num = pls >> 2
    if num == 0:
        return None
    name = MODCOD_NAMES[num]
    frame = "short" if pls & 2 else "normal"
    try:
        return frame_params(name, frame, bool(pls & 1))
    except InputError:  # 9/10 has no short frame
        raise KeyError(pls) from None


def _lr_frequency(z: np.ndarray, starts: list[int], lengths: list[int], max_lag: int) -> float:
    """Luise & Reggiannini estimate (cycles/symbol) over blocks z[s:s+n] of modulation-free samples:
    arg(sum_m R(m)) / (pi (M + 1)) with R(m) the lag-m autocorrelation averaged over all block pairs at lag m
    (unbiased for |f| < 1/(M+1))."""
    r = np.zeros(max_lag, dtype=np.complex128)
    cnt = np.zeros(max_lag)
    groups: dict[int, list[int]] = {}
    for s, n in zip(starts, lengths, strict=True):
        groups.setdefault(n, []).append(s)
    for n, ss in groups.items():
        b = z[np.asarray(ss)[:, None] + np.arange(n)[None, :]]  # (blocks, n)
        for m in range(1, min(max_lag, n - 1) + 1):
            r[m - 1] += np.vdot(b[:, :-m], b[:, m:])
            cnt[m - 1] += b.shape[0] * (n - m)
    ok = cnt > 0
    total = np.sum(r[ok] / cnt[ok])
    return float(np.angle(total) / (np.pi * (max_lag + 1)))


def _known_blocks(pf: FrameParams | None, pmask: np.ndarray) -> tuple[list[int], list[int]]:
    """Starts and lengths (symbols, from the PLHEADER start) of the known-symbol blocks of a PLFRAME."""
    if pf is None:
        return [0, PLHEADER_SYMBOLS], [PLHEADER_SYMBOLS, int(pmask.size)]
    starts, lens = [0], [PLHEADER_SYMBOLS]
    if pf.pilots:
        idx = np.flatnonzero(np.diff(np.concatenate([[0], pmask.astype(np.int8), [0]])) == 1)
        starts += [int(i) + PLHEADER_SYMBOLS for i in idx]
        lens += [36] * idx.size
    return starts, lens


@lru_cache(maxsize=256)
def _frame_reference(pls: int, pf: FrameParams | None, gold_code: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(known mask, reference symbols (payload part descrambled), PL scrambling sequence) of a PLFRAME."""
    length = DUMMY_SYMBOLS if pf is None else pf.plframe_symbols
    payload_len = length - PLHEADER_SYMBOLS
    scr = pl_scrambling_sequence(gold_code, payload_len)
    pmask = np.ones(payload_len, dtype=bool) if pf is None else pilot_mask(pf.data_symbols, pf.pilots)
    known = np.concatenate([np.ones(PLHEADER_SYMBOLS, dtype=bool), pmask])
    ref = np.zeros(length, dtype=np.complex64)
    ref[:PLHEADER_SYMBOLS] = header_symbols(pls)
    ref[PLHEADER_SYMBOLS:][pmask] = PILOT_SYMBOL
    known.setflags(write=False)
    ref.setflags(write=False)
    return known, ref, scr


@lru_cache(maxsize=256)
def _descrambler(pls: int, pf: FrameParams | None, gold_code: int) -> np.ndarray:
    """Per-symbol factors that undo the PL scrambling of a whole PLFRAME (1 on the PLHEADER)."""
    _, ref, scr = _frame_reference(pls, pf, gold_code)
    d = np.ones(ref.size, dtype=np.complex64)
    d[PLHEADER_SYMBOLS:] = np.conj(scr)
    d.setflags(write=False)
    return d


class _TsDeframer:
    """BBFRAME data fields (normal mode, TS) -> TS packets, keeping the packet that straddles two frames. Works in
    bits: a data field may end inside a byte (DVB-S2X medium frames) and SYNCD may point inside one."""

    _PK_BITS = TS_PACKET_BYTES * 8

    def __init__(self) -> None:
        self._partial: np.ndarray | None = None  # bits of the packet that straddles into the next data field

    def reset(self) -> None:
        self._partial = None

    def push(self, data: bytes, hdr: BbHeader) -> tuple[bytes, int]:
        """data: the data field's DFL bits, packed MSB first (a last partial byte padded). Returns (complete packets
        with sync bytes restored, CRC-8 mismatches)."""
        if hdr.ts_gs != 0b11 or hdr.upl_bits != self._PK_BITS:
            self._partial = None
            return b"", 0
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[: hdr.dfl_bits]
        syncd = hdr.syncd_bits
        pk: list[np.ndarray] = []
        if hdr.syncd_bits == 0xFFFF:  # no packet starts in this data field
            if self._partial is not None:
                self._partial = np.concatenate([self._partial, bits])
            return b"", 0
        if self._partial is not None and self._partial.size + syncd == self._PK_BITS:
            pk.append(np.concatenate([self._partial, bits[:syncd]]))
        body = bits[syncd:]
        nfull = body.size // self._PK_BITS
        if nfull:
            pk.append(body[: nfull * self._PK_BITS])
        rest = body[nfull * self._PK_BITS :]
        self._partial = rest if rest.size else None
        if self._partial is None and syncd == 0:
            self._partial = rest
        if not pk:
            return b"", 0
        arr = np.packbits(np.concatenate(pk)).reshape(-1, TS_PACKET_BYTES)
        # the sync byte slot of packet i+1 carries the CRC-8 of packet i's 187 bytes after the sync byte
        crc = crc8_rows(arr[:, 1:])
        errors = int(np.count_nonzero(arr[1:, 0] != crc[:-1]))
        arr[:, 0] = TS_SYNC
        return arr.tobytes(), errors


class Receiver(ParallelFrames):
    """Streaming DVB-S2 receiver. See the module docstring.

    sps: input samples per symbol (>= 2; 2 is typical). rolloff: 0.35, 0.25 or 0.20. gold_code: PL scrambling
    code n. max_iter: LDPC iteration limit (default RX_LDPC_ITERATIONS = 25 layered iterations, the decoding
    effort behind Table 13: see params). sync: "full" or "genie". timing_bn_t / phase_bn_t: loop noise
    bandwidths times the symbol period (timing: 1e-3, or with vlsnr 5e-5, which keeps the Gardner loop from
    slipping symbols at Es/N0 -10 dB). demapper: "maxlog" (default; exact for QPSK, whose LLRs are linear) or
    "exact" (log-MAP, slower). vlsnr: also receive DVB-S2X VL-SNR frames (search
    for their headers, check for them at every expected header; see the module docstring). decode_threads: 0
    decodes each frame in the caller's thread; N > 0 hands the demapping, LDPC and BCH of each frame to N worker
    threads (linksim.dvbs2.decode_pool) while the caller goes on synchronising: the same frames, the same results,
    reported in the same order (a frame whose decoding is still under way is returned by a later process() call;
    flush() waits for all). pipeline: while locked, run the front end (NCO, matched filter, timing) of each block
    on a thread, up to FRONT_END_DEPTH (4) blocks ahead of the frame synchronisation (the same results again,
    frames returned up to that many blocks later). block_symbols: the block the chain runs on (default
    BLOCK_SYMBOLS; results are the same however the stream is cut into calls for a given block); a frame comes out
    once the block holding its end is in, so smaller blocks lower the latency (a real-time IP link) at some CPU
    cost per sample.
    """

    def __init__(self, sps: float = 2, rolloff: float = 0.2, gold_code: int = 0, max_iter: int = RX_LDPC_ITERATIONS,
                 sync: str = "full", genie_delay_samples: float | None = None, timing_bn_t: float | None = None,
                 phase_bn_t: float = 2e-3, decode: bool = True, demapper: str = "maxlog", vlsnr: bool = False,
                 decode_threads: int = 0, pipeline: bool = False, block_symbols: int | None = None) -> None:
        if sync not in ("full", "genie"):
            raise InputError(f"sync must be 'full' or 'genie', not {sync!r}")
        if min(abs(rolloff - r) for r in DVBS2_ROLLOFFS) > 1e-9:
            raise InputError(f"roll-off must be 0.35, 0.25 or 0.20, not {rolloff}")
        if sync == "genie" and abs(sps - round(sps)) > 1e-12:
            raise InputError("genie sync needs an integer number of samples per symbol")
        if not sps >= 2 or not np.isfinite(sps):
            raise InputError(f"the receiver needs at least 2 samples per symbol, not {sps}")
        if demapper not in ("exact", "maxlog"):
            raise InputError(f"demapper must be 'exact' or 'maxlog', not {demapper!r}")
        self.maxlog = demapper == "maxlog"
        self.vlsnr = bool(vlsnr)
        self._vl_last: dict[int, FrameParams] = {}  # the last VL-SNR MODCOD received, per set
        self.sps = float(sps)
        self.rolloff = float(rolloff)
        self.gold_code = int(gold_code)
        pl_scrambling_sequence(self.gold_code, 0)  # validates the Gold code
        if max_iter < 1:
            raise InputError(f"max_iter must be >= 1, not {max_iter}")
        self.max_iter = int(max_iter)
        self.sync = sync
        self.decode = decode
        self.keep_raw_field = False  # fill FrameReport.raw_field (decoded data field bits, right or wrong)
        self.phase_bn_t = phase_bn_t
        self._mf = MatchedFilter(int(round(sps)) if sync == "genie" else self.sps, rolloff)
        if timing_bn_t is None:
            timing_bn_t = self.VL_TIMING_BN_T if self.vlsnr else 1e-3
        self._timing = (GardnerTiming(self.sps, bn_t=timing_bn_t, rolloff=rolloff,
                                      acq_bn_t=self.VL_TIMING_ACQ_BN_T if self.vlsnr else None)
                        if sync == "full" else None)
        if genie_delay_samples is None:
            genie_delay_samples = DEFAULT_SPAN_SYMBOLS // 2 * int(sps)
        self._genie_delay = float(genie_delay_samples)
        self._genie_next = self._genie_delay + self._mf.delay  # MF-output index of the next symbol
        self._mf_buf = np.zeros(0, dtype=np.complex64)
        self._mf_buf_base = 0
        # symbol buffer
        self._sym = np.zeros(0, dtype=np.complex64)
        self._pos = np.zeros(0, dtype=np.float64)
        # frame sync state
        self._locked = sync == "genie"
        self._next = 0  # buffer index of the next PLHEADER when locked
        self._header: tuple[int, int, FrameParams | None] | None = None  # found, frame not complete yet
        self._misses = 0
        self._last_pls: int | None = None  # PLS code of the last header found reliably (locked)
        self._pls_decoded: int | None = None  # what a missed header decoded to, when the last reliable one replaced it
        self._gain_avg = 0.0
        if decode_threads < 0:
            raise InputError(f"decode_threads must be >= 0, not {decode_threads}")
        self._init_parallel(decode_threads, pipeline and sync == "full")  # linksim.dvbs2.decode_pool
        self._f_cyc = 0.0
        self._f_var = 1e-4
        self._f_frames = 0
        self._metric_avg = 0.0
        self._ts = _TsDeframer()
        self._nco: float | None = None  # coarse carrier correction before the matched filter, cycles/sample
        self._nco_seen = False  # a spectral estimate has shown a signal
        # NCO steps not yet seen by the symbol-level estimate: (first input sample, step in cycles/symbol)
        self._nco_steps: list[tuple[int, float]] = []
        self._quiet = False  # the last spectral estimate showed no signal
        self._f_spec: float | None = None  # the last spectral carrier estimate that showed a signal, cycles/symbol
        self._restart_timing = False  # restart the timing loop at the next estimate that shows a signal
        self._nco_n = 0
        self._pre: list[np.ndarray] = []
        self._samples_in = 0  # samples given to process()
        self._erasures = ErasureRuns(self._mf.taps)
        self._frame_pos: np.ndarray | None = None  # input-sample positions of the frame being demodulated
        self.block_symbols = check_block_symbols(block_symbols)
        self.block_samples = max(1, int(round(self.block_symbols * self.sps)))
        self._stager = BlockStager(self.block_samples)  # samples waiting for a whole block
        self.samples_processed = 0  # samples through the chain: whole blocks until flush()
        self._pos_last = float("-inf")  # input position of the last symbol made
        self._watermark = float("-inf")
        self._flushed = False
        self.stats = {"searches": 0, "lost_lock": 0}
        self._noise_stats = (0.2, 0.075)  # mean and std of the header metric off the headers

    # ------------------------------------------------------------------------------------------- public API

    BLOCK_SYMBOLS = 8192  # the chain runs on blocks of this many symbols' samples, cut at fixed sample indices

    def process(self, samples: np.ndarray, erasures: np.ndarray | None = None) -> list[FrameReport]:
        """Feed a block of complex baseband samples (any size); returns the frames completed so far. `erasures`:
        optional boolean mask, one per sample, True where a blanker blanked the sample.

        The samples are staged and the chain runs on blocks of `block_samples` cut at fixed input indices, so
        every estimate, decision and report is the same however the stream is cut into calls (at the cost of up
        to one block of latency; `flush()` runs the rest)."""
        if self._flushed:
            raise InputError("this Receiver was flushed; make a new one for a new stream")
        x = np.asarray(samples)
        if x.ndim != 1:
            x = x.reshape(-1)
        x = x.astype(np.complex64, copy=False)
        if erasures is not None:
            self._erasures.add(self._samples_in, erasures, x.size)
        self._samples_in += x.size
        out: list[FrameReport] = []
        for blk in self._stager.blocks(x):
            out += self._process_block(blk)
        return out

    def _process_block(self, x: np.ndarray) -> list[FrameReport]:
        self.samples_processed += x.size
        self._stamp = self.samples_processed
        if self._pipeline:
            return self._process_pipelined(x)
        x = self._coarse_carrier(x, final=False)
        if x.size:
            self._front_end(self._mf.process(x))
        return self._frames(final=False)

    @property
    def reported_through(self) -> float:
        """Input sample index before which every PLFRAME has been reported: a later report has a larger
        sample_index (-inf before the first symbols, +inf once flushed)."""
        if self._flushed:
            return float("inf")
        if self._header is not None:
            i = self._header[0]
        elif self._locked:
            i = max(self._next - 2, 0)
        else:
            i = 0
        w = float(self._pos[i]) - 0.5 if i < self._pos.size else self._pos_last
        w = min(w, self._undelivered_from() - 0.5)  # frames still decoding (or speculated on) come later
        self._watermark = max(self._watermark, w)
        return self._watermark

    COARSE_SAMPLES = 40000  # samples per blind (spectral) carrier-offset estimate
    COARSE_MIN_CYC = 0.02  # below this offset (cycles/symbol) the matched filter loses nothing: no pre-correction
    COARSE_MIN_CONTRAST = 0.15  # spectral contrast (about the Es/N0, linear) below which an estimate is noise
    # with VL-SNR frames expected: a signal at Es/N0 -10 dB shows a contrast of 0.07 to 0.10 over 40000 samples,
    # noise alone 0.01 +- 0.014 (at most 0.045 in 50 trials); the offset is then right to +-0.03 cycles/symbol,
    # inside the VL-SNR header search's +-0.1
    COARSE_MIN_CONTRAST_VLSNR = 0.06

    def _coarse_carrier(self, x: np.ndarray, final: bool) -> np.ndarray:
        """Full sync: estimate large carrier offsets from the spectrum and remove them before the matched filter
        (NCO on the sample clock); the symbol-level estimators take the rest. The first block is held back and
        corrected with its own estimate; while the receiver searches (no lock) every further block is estimated
        again, so a signal that starts late, or comes back at another offset, is found. An estimate whose
        spectrum shows no signal (noise only) leaves the NCO as it is."""
        if self.sync != "full":
            return x
        if self._nco is None:
            self._pre.append(x.copy())
            n = sum(b.size for b in self._pre)
            if n < self.COARSE_SAMPLES and not final:
                return np.zeros(0, dtype=np.complex64)
            x = np.concatenate(self._pre) if self._pre else np.zeros(0, dtype=np.complex64)
            self._pre = []
            self._nco = 0.0
            self._nco_n = 0
            self._coarse_update(x)
        elif not self._locked:
            self._pre.append(x.copy())
            if sum(b.size for b in self._pre) >= self.COARSE_SAMPLES:
                self._coarse_update(np.concatenate(self._pre))
                self._pre = []
        else:
            self._pre = []
        n0 = self._nco_n
        self._nco_n += x.size
        if self._nco == 0.0 or x.size == 0:
            return x
        return self._nco_mix(x, n0)

    def _nco_mix(self, x: np.ndarray, n0: int) -> np.ndarray:
        assert self._nco is not None
        # exp(-j 2 pi nco n) as a product of a per-block and a within-block phasor (one multiply per sample)
        blk = 1024
        nb = -(-x.size // blk)
        coarse = np.exp(-2j * np.pi * ((self._nco * (n0 + blk * np.arange(nb))) % 1.0)).astype(np.complex64)
        fine = np.exp(-2j * np.pi * self._nco * np.arange(blk)).astype(np.complex64)
        return x * (coarse[:, None] * fine[None, :]).reshape(-1)[: x.size]

    def _coarse_update(self, x: np.ndarray) -> None:
        """Take a spectral estimate that shows a signal: the first one sets the NCO; later ones (single
        estimates scatter by about 0.01 cycles/symbol at the lowest Es/N0) only move it when they are more than
        twice COARSE_MIN_CYC away: the signal came back elsewhere."""
        f, contrast = coarse_offset_psd(x, self.sps, self.rolloff) if x.size else (0.0, 0.0)
        if contrast < (self.COARSE_MIN_CONTRAST_VLSNR if self.vlsnr else self.COARSE_MIN_CONTRAST):
            self._quiet = True
            return
        self._f_spec = f
        if self._quiet:  # a signal after noise; from the next block on, the signal fills it
            self._restart_timing = True
        elif self._restart_timing and self._timing is not None:  # timing starts over on the signal
            self._timing.restart()
            self._restart_timing = False
        self._quiet = False
        target = f / self.sps if abs(f) > self.COARSE_MIN_CYC else 0.0
        if not self._nco_seen or abs(target - self._nco) * self.sps > 2 * self.COARSE_MIN_CYC:
            if target != self._nco:  # from the next sample on; symbols already buffered keep the old correction
                self._nco_steps.append((self._nco_n, (target - (self._nco or 0.0)) * self.sps))
            self._nco = target
        self._nco_seen = True

    def flush(self) -> list[FrameReport]:
        """End of stream: push the filters' tails through and return every remaining frame."""
        if self._flushed:
            return []
        rest = self._stager.rest()
        out = self._process_block(rest) if rest.size else []
        owed = self._drain_ahead()
        self._stamp = self.samples_processed
        tail = np.zeros(self._mf.delay + 8 * int(round(self.sps)), dtype=np.complex64)
        held = self._coarse_carrier(np.zeros(0, dtype=np.complex64), final=True)
        self._front_end(self._mf.process(np.concatenate([held, tail])), final=True)
        out += owed + self._frames(final=True)
        self._flushed = True
        return out

    @property
    def cfo_cyc(self) -> float:
        """Current carrier-offset estimate in cycles per symbol."""
        return self._f_cyc_v + (self._nco or 0.0) * self.sps  # (read as is: never settles or speculates)

    # ------------------------------------------------------------------------------------------- front end

    def _front_end(self, y: np.ndarray, final: bool = False) -> None:
        self._append_symbols(*self._symbols(y, final))

    def _append_symbols(self, s: np.ndarray, pos: np.ndarray) -> None:
        if s.size:
            if self._spec is not None:  # kept for a speculation that is taken back (linksim.dvbs2.decode_pool)
                self._spec[4].append((s, pos, self._stamp))
            self._sym = np.concatenate([self._sym, s.astype(np.complex64)])
            self._pos = np.concatenate([self._pos, pos])
            self._pos_last = float(pos[-1])

    def _symbols(self, y: np.ndarray, final: bool) -> tuple[np.ndarray, np.ndarray]:
        """Matched-filter output -> symbols and their sample positions (timing recovery, or genie instants)."""
        if self._timing is not None:
            s, pos = self._timing.process(y, final)
            pos = pos - self._mf.delay
        else:
            # genie: take MF output samples at the known instants
            self._mf_buf = np.concatenate([self._mf_buf, y])
            sps = int(round(self.sps))
            end = self._mf_buf_base + self._mf_buf.size
            first = int(round(self._genie_next))
            if first < end:
                idx = np.arange(first, end, sps)
                s = self._mf_buf[idx - self._mf_buf_base] / np.float32(np.sqrt(sps))
                pos = idx.astype(np.float64) - self._mf.delay
                self._genie_next = first + idx.size * sps
            else:
                s = np.zeros(0, dtype=np.complex64)
                pos = np.zeros(0)
            keep = max(0, int(round(self._genie_next)) - self._mf_buf_base)
            self._mf_buf = self._mf_buf[keep:]
            self._mf_buf_base += keep
        return s, pos

    def _consume(self, n: int) -> None:
        n = min(n, self._sym.size)
        self._sym = self._sym[n:]
        self._pos = self._pos[n:]
        self._next -= n

    # ------------------------------------------------------------------------------------------- frame sync

    def _frames(self, final: bool, speculate: bool = True) -> list[FrameReport]:
        out: list[FrameReport] = []
        # with a decode pool, a frame whose outcome the next one depends on need not be waited for: the next frames
        # go on guessing it ends as the last known frame did (a checkpoint of the frame-sync state is kept), and if
        # the guess was wrong, everything after the checkpoint is thrown away and run again (see _settle_carrier)
        self._may_speculate = speculate and self._pool is not None
        try:
            while True:
                try:
                    pc = self._pending_carrier
                    self._iter_ckpt = (self._checkpoint() if self._may_speculate and pc is not None
                                       and not pc[0].done() else None)
                    if not self._locked:
                        before = self._sym.size
                        if self._search(final):
                            continue
                        if 0 < self._sym.size < before:  # a window without a header was dropped: search the rest
                            continue
                        if self._replay_block():
                            continue
                        break
                    rep = self._locked_step(final)
                    if rep is None:
                        if self._replay_block():
                            continue
                        if self._spec is not None and (final or not self._pipeline):
                            self._resolve_speculation()  # nothing speculative outlives the call
                        break
                    self._push(rep, measured=True)
                except Rollback:
                    continue
        finally:
            self._may_speculate = False
            self._iter_ckpt = None
        if final and self._sym.size:
            self._consume(self._sym.size)
        out.extend(self._drain(wait_all=final))
        return out

    def _search(self, final: bool) -> bool:
        """Look for a PLHEADER confirmed by the next one. Returns True if locked."""
        n = self._sym.size
        vl_extra = vl.VLSNR_HEADER_SYMBOLS if self.vlsnr else 0  # a VL-SNR header must fit past the window
        if n < MAX_PLFRAME_SYMBOLS + 2 * PLHEADER_SYMBOLS + 8 + vl_extra and not final:
            return False
        # wait for the headers that confirm a candidate, up to this many symbols
        can_wait = not final and n < 3 * MAX_PLFRAME_SYMBOLS + 2 * PLHEADER_SYMBOLS + 8
        if n < PLHEADER_SYMBOLS + 2:
            return False
        vl_best = self._vl_search() if self.vlsnr else None  # a DVB-S2 header before it is taken first
        self.stats["searches"] += 1
        win = min(n - PLHEADER_SYMBOLS, MAX_PLFRAME_SYMBOLS + PLHEADER_SYMBOLS)
        metric, c_sof, c_pls = header_metric(self._sym[: win + PLHEADER_SYMBOLS])
        mu, sd = float(np.mean(metric)), float(np.std(metric))
        self._noise_stats = (mu, sd)
        k = self.SEARCH_CANDIDATES
        top = np.argpartition(metric, -k)[-k:] if metric.size > k else np.arange(metric.size)
        order = top[np.argsort(metric[top])[::-1]]
        # differential candidates: carrier offset from their own differential correlations, +-0.1 cycles/symbol
        cands: list[tuple[int, float, float]] = []  # (position, offset, offset range)
        for p in order:
            if metric[p] < max(0.6 * metric[order[0]], mu + 2.5 * sd):
                break
            ph = combined_offset_phasor(c_sof[p], c_pls[p])
            cands.append((int(p), float(np.angle(ph) / (2 * np.pi)), 0.1))
        # if the spectrum showed a signal, the carrier offset left after the NCO is known to about +-0.015
        # cycles/symbol: the coherent SOF correlation adds its own candidates, decided over a narrow offset range
        # (fewer hypotheses: noise correlates less). A spectral estimate pulled off by a jammer does not stop the
        # differential candidates.
        f_res = None if self._f_spec is None else self._f_spec - (self._nco or 0.0) * self.sps
        if f_res is not None:
            rho2 = sof_metric(self._sym[: win + PLHEADER_SYMBOLS], f_res)
            top = np.argpartition(rho2, -k)[-k:] if rho2.size > k else np.arange(rho2.size)
            seen = {c[0] for c in cands}
            cands += [(int(p), f_res, self.SPAN_AFTER_SPECTRUM) for p in top[np.argsort(rho2[top])[::-1]]
                      if int(p) not in seen]
        best: tuple[int, float, float] | None = None  # earliest confirmed header: (p, f, metric)
        wait = False
        for p, f_c, span in cands:
            if (best is not None and p >= best[0]) or (vl_best is not None and p >= vl_best[0]):
                continue
            conf = self._confirm(p, f_c, span, float(metric[p]), can_wait)
            if conf == "wait":
                wait = True
            elif conf is not None:
                best = (p, conf[0], conf[1])
        if wait:
            return False
        if best is None and vl_best is not None:
            # the coherent check measures the offset to better than 1e-4 cycles/symbol even at Es/N0 -10.4 dB
            self._lock(vl_best[0], vl_best[1], 0.0, f_var=self.VL_LOCK_F_VAR)
            return True
        if best is not None:
            self._lock(*best)
            return True
        # nothing: drop what was searched (keep the tail in which a header could still start)
        drop = max(0, win - PLHEADER_SYMBOLS) if not final else n
        self._consume(drop)
        return False

    # Coherent header correlation rho (coherent_header_check) that confirms a header: for a PLHEADER at Es/N0
    # -2.85 dB rho is about 0.55 +- 0.07; for noise, with the best of the 128 codes, about 1e-4 per offset
    RHO_CONFIRM = 0.4
    RHO_LONE = 0.5  # a header at the end of a stream with none after it (noise: about 1e-6 per candidate)

    SEARCH_CANDIDATES = 32  # header candidates per search window from each metric (differential, SOF)
    SPAN_AFTER_SPECTRUM = 0.03  # cycles/symbol searched around the spectral estimate's residual offset

    def _confirm(self, p: int, f_c: float, span: float, m1: float,
                 can_wait: bool) -> tuple[float, float] | str | None:
        """Check that PLHEADERs follow the candidate at p where its PLS code says (2 of them, fewer at the end
        of the stream): each is found within +-1 symbol of where the previous header's frame ends, and all the
        headers, the candidate's included, must correlate coherently with their decoded PLHEADERs at one common
        carrier offset within f_c +- span (cycles/symbol) with rho >= RHO_CONFIRM. (The differential
        `header_metric` only picks the candidates: near QPSK 1/4's threshold a true header often does not stand
        out in it, and noise sometimes does.)
        Returns (carrier offset, mean header metric), None (rejected) or "wait" (the buffer does not reach the
        next headers yet)."""
        n = self._sym.size
        heads = [p]
        y = self._sym[p : p + PLHEADER_SYMBOLS]
        pls, _, gain = decode_plsc(y, f_c, span)
        codes = [pls]
        # the candidate alone, at its own best offset, bounds what it can reach at an offset common to all
        # (rho of its decided header there: the gain is mean(y h*), symbols and header at unit power)
        rho_own = abs(gain) * np.sqrt(PLHEADER_SYMBOLS / max(float(np.vdot(y, y).real), 1e-30))
        if rho_own < self.RHO_CONFIRM:
            return None
        f_coh = f_c
        ms = [m1]
        q = p
        for _ in range(2):
            try:
                pf = _pls_params(codes[-1])
            except KeyError:
                return None
            q += DUMMY_SYMBOLS if pf is None else pf.plframe_symbols
            if q + PLHEADER_SYMBOLS + 1 > n:
                if can_wait:
                    return "wait"
                break
            m2, _, _ = header_metric(self._sym[q - 1 : q + PLHEADER_SYMBOLS + 1])
            j = int(np.argmax(m2))
            q += j - 1
            heads.append(q)
            ms.append(float(m2[j]))
            codes.append(decode_plsc(self._sym[q : q + PLHEADER_SYMBOLS], f_c, span)[0])
            rho, f_coh = coherent_header_check([self._sym[h : h + PLHEADER_SYMBOLS] for h in heads], codes,
                                               f_c, span)
            if float(np.min(rho)) < self.RHO_CONFIRM:
                return None
        if len(heads) == 1:  # end of the stream, no header follows: a lone header must be unmistakable
            if m1 < 0.5 or rho_own < self.RHO_LONE:
                return None
            f_coh = coherent_header_check([y], codes, f_c, span)[1]
        return f_coh, float(np.mean(ms))

    # VL-SNR: stage-1 differential candidates per search window; the coherent rho (vlsnr_sync.coherent_check) that
    # accepts a VL-SNR header: about 0.30 at Es/N0 -10 dB, 0.25 at -11 dB; below 0.1 for noise and for other frames
    VL_CANDIDATES = 4
    # timing loop bandwidth (x T) when VL-SNR frames are expected, starting from 5e-4: at Es/N0 -9 dB the symbol
    # clock then stays within 0.09 symbol (rms 0.02 to 0.06 over six seeds); with 1e-4 from 1e-3 it wandered by up
    # to 0.19 symbol, with DVB-S2's 1e-3 from 1e-2 it slips whole symbols
    VL_TIMING_BN_T = 5e-5
    VL_TIMING_ACQ_BN_T = 5e-4
    VL_MAX_OFFSET_CYC = 0.1  # carrier offset range of the VL-SNR search (after the spectral pre-correction)
    VL_RHO = 0.17
    VL_LOCK_F_VAR = 1e-8  # variance of the offset measured by the coherent header check, (cycles/symbol)^2

    def _vl_search(self) -> tuple[int, float] | None:
        """Look for a VL-SNR header (990 known symbols) in the buffer: (position, carrier offset) of the earliest
        one that passes the coherent check, or None."""
        n = self._sym.size
        win = min(n - vl.KNOWN_HEAD_SYMBOLS + 1, MAX_PLFRAME_SYMBOLS + vl.KNOWN_HEAD_SYMBOLS)
        if win <= 0:
            return None
        self.stats["vlsnr_searches"] = self.stats.get("vlsnr_searches", 0) + 1
        best = None
        for p, f1, _ in differential_search(self._sym[: win + vl.KNOWN_HEAD_SYMBOLS - 1],
                                            max_offset_cyc=self.VL_MAX_OFFSET_CYC, candidates=self.VL_CANDIDATES):
            name, rho, f, _ = coherent_check(self._sym[p : p + vl.KNOWN_HEAD_SYMBOLS], f1, 0.03)
            if rho >= self.VL_RHO and (best is None or p < best[0]):
                best = (p, f)
        return best

    def _vl_header_at(self, p: int, search: int, span: float) -> tuple[int, int, FrameParams] | None:
        """A VL-SNR header at p (+-search symbols) under the carrier estimate +-span: (position, PLS code, params)
        or None. The MODCOD is decided jointly with the offset: a header's block signs seen at a wrong offset look
        like another MODCOD's (at 0.6 of the true peak for 1/112 cycles/symbol), so the span must hold the true
        offset."""
        best = None
        for q in range(max(0, p - search), p + search + 1):
            if q + vl.KNOWN_HEAD_SYMBOLS > self._sym.size:
                break
            name, rho, _, _ = coherent_check(self._sym[q : q + vl.KNOWN_HEAD_SYMBOLS], self._f_cyc, span)
            if rho >= self.VL_RHO and (best is None or rho > best[1]):
                best = (q, rho, name)
        if best is None:
            return None
        pf = frame_params(best[2])
        return best[0], pf.pls_code, pf

    def _lock(self, p: int, f_cyc: float, metric: float, f_var: float = 1e-4) -> None:
        self._locked = True
        self._header = None
        self._last_pls = self._pls_decoded = None
        self._next = p
        self._f_cyc = f_cyc
        self._f_var = f_var  # variance of the offset estimate (cycles/symbol)^2: header-only at first
        self._f_frames = 0
        self._misses = 0
        self._metric_avg = float(metric)
        self._gain_avg = 0.0
        self._push(RESET)  # the TS deframer starts over, after the frames before the lock are delivered
        self._nco_steps = [st for st in self._nco_steps if st[0] > self._pos[p]]  # f_cyc was measured after these
        self._train(p)

    def _lr_update(self, zk: np.ndarray, starts: list[int], lens: list[int]) -> float:
        """Kalman-style update of the carrier offset with one frame's L&R residual; returns the correction."""
        df_lr = _lr_frequency(zk, starts, lens, 18)
        # signal power from the lag-1 products (insensitive to the offset still to be found)
        r1 = 0j
        tot = 0.0
        cnt = 0
        for s, m in zip(starts, lens, strict=True):
            b = zk[s : s + m]
            r1 += np.vdot(b[:-1], b[1:])
            tot += float(np.vdot(b, b).real)
            cnt += m
        sig = abs(r1) / max(cnt - len(starts), 1)
        tot /= max(cnt, 1)
        snr = max(sig / max(tot - sig, 1e-12), 1e-2)
        r_lr = 3.0 / (2 * np.pi**2 * snr * float(np.sum(np.asarray(lens, dtype=float) ** 3)))
        r_lr *= 2.0 * (1.0 + 1.0 / snr)
        p_prior = self._f_var + 1e-11
        gain = p_prior / (p_prior + r_lr)
        self._f_var = (1 - gain) * p_prior
        return float(gain * df_lr)

    def _train(self, p: int, max_frames: int = 8) -> None:
        """At lock: refine the carrier offset on the known symbols of the frames already buffered."""
        for _ in range(max_frames):
            if p + PLHEADER_SYMBOLS > self._sym.size:
                return
            span = min(0.1, 4 * float(np.sqrt(self._f_var)))
            if self.vlsnr and self._vl_header_at(p, 0, self._vl_span()) is not None:
                return  # a VL-SNR frame: its header measured the offset already; each frame's pilots refine it
            pls, _, _ = decode_plsc(self._sym[p : p + PLHEADER_SYMBOLS], self._f_cyc, span if span > 1e-3 else 0.0)
            try:
                pf = _pls_params(pls)
            except KeyError:
                return
            known, ref, scr = _frame_reference(pls, pf, self.gold_code)
            length = ref.size
            if p + length > self._sym.size:
                return
            if self._nco_steps and self._nco_steps[0][0] <= self._pos[p + length - 1]:
                return  # the coarse NCO stepped within this frame: its symbols do not share one offset
            k = np.arange(length)
            z = self._sym[p : p + length] * np.exp(-2j * np.pi * self._f_cyc * k).astype(np.complex64)
            z[PLHEADER_SYMBOLS:] *= np.conj(scr)
            starts, lens = _known_blocks(pf, known[PLHEADER_SYMBOLS:])
            self._f_cyc += self._lr_update(z * np.conj(ref), starts, lens)
            p += length

    def _find_header(self, final: bool) -> tuple[int, int, FrameParams | None] | None:
        """Refine the expected PLHEADER position (+-2 symbols: timing slips) and decode its PLS code.
        Returns (position, pls, params), or None (wait for data, or lock lost)."""
        p = self._next
        n = self._sym.size
        if p + PLHEADER_SYMBOLS + 3 > n:
            return None
        while self._nco_steps and self._nco_steps[0][0] <= self._pos[p]:  # the NCO took a step off the residual
            self._f_cyc -= self._nco_steps.pop(0)[1]
        span = min(0.1, 4 * float(np.sqrt(self._f_var))) if self.sync == "full" else 0.0
        if self.vlsnr:
            if p + vl.KNOWN_HEAD_SYMBOLS + 2 > n and not final:
                return None
            vh = self._vl_header_at(p, 2 if self.sync == "full" else 0, self._vl_span() if self.sync == "full" else 0)
            if vh is not None:
                self._misses = 0
                self._vl_last[vh[2].vlsnr.set] = vh[2]
                return vh
            vm = self._vl_missed(p, span)
            if vm is not None:  # a VL-SNR PLHEADER whose VL-SNR header did not pass: a miss, the frame's length kept
                self._misses += 1
                if self._misses >= 3:
                    self._locked = False
                    self.stats["lost_lock"] += 1
                    self._consume(max(0, p))
                    return None
                return vm
        span = span if span > 1e-3 else 0.0
        if self.sync == "full":
            lo = max(0, p - 2)
            m, _, _ = header_metric(self._sym[lo : p + PLHEADER_SYMBOLS + 2])
            # the position whose best header hypothesis correlates most (coherently, all 90 symbols); the
            # expected one is enough when it is also the differential-metric peak and correlates as usual
            j0 = p - lo
            pls0, _, g0 = decode_plsc(self._sym[p : p + PLHEADER_SYMBOLS], self._f_cyc, span)
            if int(np.argmax(m)) == j0 and abs(g0) >= 0.7 * self._gain_avg:
                j, pls = j0, pls0
            else:
                cands = [(abs(g0), j0, pls0)]
                for jj in range(m.size):
                    if jj != j0:
                        q = lo + jj
                        pls_j, _, g = decode_plsc(self._sym[q : q + PLHEADER_SYMBOLS], self._f_cyc, span)
                        cands.append((abs(g), jj, pls_j))
                gbest, j, pls = max(cands)
                g0 = gbest
            gain_prev = self._gain_avg or abs(g0)
            p = lo + j
            if float(np.median(np.abs(self._sym[p : p + PLHEADER_SYMBOLS]) ** 2)) < 0.01 * gain_prev**2:
                self._locked = False  # 20 dB below the frames so far (a recording's zero padding): the signal
                self._consume(p)  # is gone, no frame here
                return None
            mval = float(m[j])
            mu, sd = self._noise_stats
            weak_diff = mval < 0.4 * self._metric_avg or mval < mu + 2.0 * sd
            # near threshold the differential metric often dips into the noise: a header is only missed when
            # its coherent correlation (the decided PLHEADER, carrier known; symbols at unit power, so |g0| is
            # about rho of coherent_header_check) is weak too
            if weak_diff and (abs(g0) < self.RHO_CONFIRM or abs(g0) < 0.6 * gain_prev):
                self._misses += 1
                if self._last_pls is not None:  # a header lost in noise or jamming decodes to a random PLS code:
                    self._pls_decoded = pls  # keep the last reliable one (its frame length keeps the alignment)
                    pls = self._last_pls
            else:
                self._last_pls = pls
                self._pls_decoded = None
                self._misses = 0
                self._metric_avg += 0.2 * (mval - self._metric_avg)
                self._gain_avg = abs(g0) if self._gain_avg == 0 else self._gain_avg + 0.2 * (abs(g0) - self._gain_avg)
            if self._misses >= 3:
                self._locked = False
                self.stats["lost_lock"] += 1
                self._consume(max(0, p))
                return None
        else:
            pls, _, _ = decode_plsc(self._sym[p : p + PLHEADER_SYMBOLS], 0.0)
        try:
            pf = _pls_params(pls)
        except KeyError:
            self._misses += 1
            if self.sync == "full" and self._misses >= 3:
                self._locked = False
                self._consume(p + 1)
                return None
            pf = None
        return p, pls, pf

    def _locked_step(self, final: bool) -> FrameReport | None:
        n = self._sym.size
        if self._header is None:
            hdr = self._find_header(final)
            if hdr is None:
                return None
            self._header = hdr
        p, pls, pf = self._header
        length = DUMMY_SYMBOLS if pf is None else pf.plframe_symbols
        truncated = False
        if p + length + (3 if self.sync == "full" else 0) > n:
            if not final:
                self._next = p
                return None
            truncated = True
            if self._pls_decoded is not None:  # the stream ended: a missed header there is reported as decoded
                pls = self._pls_decoded
                try:
                    pf = _pls_params(pls)
                except KeyError:
                    pf = None
        self._header = None
        seg = self._sym[p : p + length]
        pos0 = float(self._pos[p])
        self._frame_pos = self._pos[p : p + length]
        rep = self._demod(seg, pls, pf, pos0, truncated)
        # runs before this frame are done with, unless a guess (decode_pool) may still send the frame loop back
        if self._spec is None:
            self._erasures.drop_before(float(self._frame_pos[-1]) if self._frame_pos.size else pos0)
        self._next = p + length
        self._consume(min(p + length, self._sym.size) - 2 if self.sync == "full" else min(p + length, n))
        return rep

    # ------------------------------------------------------------------------------------------- one frame

    def _demod(self, seg: np.ndarray, pls: int, pf: FrameParams | None, pos0: float,
               truncated: bool) -> FrameReport:
        if pf is not None and pf.vlsnr is not None:
            erased = None if truncated else self._erased(pf.plframe_symbols)
            if erased is not None:  # blanked symbols: zero (no LLR, no weight in the phase estimate)
                seg = np.where(erased, np.complex64(0), seg).astype(np.complex64)
            return self._vl_demod(seg, pls, pf, pos0, truncated)
        length = DUMMY_SYMBOLS if pf is None else pf.plframe_symbols
        name = DUMMY if pf is None else pf.modcod
        frame = "normal" if pf is None else pf.frame
        pilots = False if pf is None else pf.pilots
        if truncated:
            return FrameReport(int(round(pos0)), name, frame, pilots, pls, 0, -1, False, float("nan"),
                               self.cfo_cyc, truncated=True)
        known, ref, scr = _frame_reference(pls, pf, self.gold_code)
        pmask = known[PLHEADER_SYMBOLS:]
        erased = self._erased(length)
        if erased is not None:  # blanked symbols carry nothing: zero, for the estimators and the demapper alike
            seg = np.where(erased, np.complex64(0), seg).astype(np.complex64)
        if self.sync == "genie":
            z = seg.astype(np.complex64, copy=True)
            z[PLHEADER_SYMBOLS:] *= np.conj(scr)
            return self._measure_and_decode(z, pos0, pls, pf, known, ref)
        descr = _descrambler(pls, pf, self.gold_code)  # 1 on the header, conj(scrambling) after it
        starts, lens = _known_blocks(pf, pmask)
        if pf is not None and not pf.pilots:
            # no pilots: carrier offset from the header (L&R, filtered over frames), then a PLL over the frame
            # (data-aided on the header, decision-directed on the data)
            k = np.arange(length)
            z = seg * descr * np.exp(-2j * np.pi * self._f_cyc * k).astype(np.complex64)
            df = self._lr_update(z * np.conj(ref), starts, lens)
            z *= np.exp(-2j * np.pi * df * k).astype(np.complex64)
            g = np.mean(z[:PLHEADER_SYMBOLS] * np.conj(ref[:PLHEADER_SYMBOLS]))
            const = constellation(pf.constellation, pf.rate)
            v, _, nu = track_phase(z, known, ref, const.points, float(abs(g)), float(np.angle(g)), 0.0,
                                   self.phase_bn_t)
            self._f_cyc += df + 0.5 * nu / (2 * np.pi)
            self._f_frames += 1
            return self._measure_and_decode(v, pos0, pls, pf, known, ref)
        # pilots (or a DUMMY frame): only the known symbols are needed to estimate the carrier
        kk = np.flatnonzero(known)
        zk = np.zeros(length, dtype=np.complex64)
        zk[kk] = seg[kk] * descr[kk] * np.conj(ref[kk]) * np.exp(-2j * np.pi * self._f_cyc * kk).astype(np.complex64)
        sd_before = float(np.sqrt(self._f_var))
        df = self._lr_update(zk, starts, lens)
        # feed-forward phase from header and pilot blocks. Their phases are ambiguous by whole turns between
        # blocks (1476 symbols); while the offset is still uncertain, a frame that fails to decode is tried again
        # one alias up and down, and a decoded frame pins the offset.
        period = float(np.median(np.diff(starts[1:]))) if len(starts) > 2 else float(length)
        aliases = [0.0]
        if pf is not None and sd_before > 1.2e-4 and self.decode:
            aliases += [1.0 / period, -1.0 / period]
        rep = None
        best = (0.0, 0.0)
        for alias in aliases:
            fa = df + alias
            zka = zk.copy()
            zka[kk] *= np.exp(-2j * np.pi * fa * kk).astype(np.complex64)
            fit = pilot_phase_fit(zka, starts, lens)
            slope = fit.slope_cyc
            v = derotate(seg, descr, 2 * np.pi * (self._f_cyc + fa), fit)
            r = self._measure_and_decode(v, pos0, pls, pf, known, ref, wait=len(aliases) > 1)
            if rep is None or r.ok:
                rep, best = r, (alias, slope)
            if r.ok:
                break
        alias, slope = best
        # the carrier state after this frame, if it decodes and if it does not
        f0, v0 = self._f_cyc, self._f_var
        if_ok = (f0 + (df + alias + slope), min(v0, 1e-10))
        if sd_before < 1.2e-4 and abs(slope) < 2.5e-4:
            if_not = (f0 + (df + slope), min(v0, 1e-9))
        else:
            if_not = (f0 + df, v0)
        self._f_frames += 1
        return self._carrier_after(rep, pf, if_ok, if_not)

    def _carrier_after(self, rep: FrameReport, pf: FrameParams | None, if_ok: tuple[float, float],
                       if_not: tuple[float, float]) -> FrameReport:
        """The carrier state (offset, its variance) after a frame: if_ok if it decodes, if_not if not."""
        nco_term = (self._nco or 0.0) * self.sps
        fut = self._futures.get(id(rep))
        if fut is not None and pf is not None and if_ok != if_not and not fut.done():  # type: ignore[attr-defined]
            # still decoding on the pool: settled when the state is next read (the next frame's
            # synchronisation), so the decoding overlaps everything until then
            self._pending_carrier = (fut, rep, if_ok, if_not, nco_term)
            return rep
        if fut is not None:
            fut.result()  # type: ignore[attr-defined]
        if pf is not None:
            self._last_ok = bool(rep.ok)
        self._f_cyc_v, self._f_var_v = if_ok if (rep.ok and pf is not None) else if_not
        rep.cfo_cyc = self._f_cyc_v + nco_term
        return rep

    def _erased(self, length: int) -> np.ndarray | None:
        """The current frame's erased symbols (from the blanker's mask), or None."""
        pos = self._frame_pos
        if pos is None or pos.size != length:
            return None
        return self._erasures.erased_symbols(pos)

    def _vl_missed(self, p: int, span: float) -> tuple[int, int, FrameParams] | None:
        """When no VL-SNR header passed at p: if the 90-symbol PLHEADER there matches a VL-SNR PLS code (129, 131)
        better than any DVB-S2 one, (p, PLS code, the last VL-SNR MODCOD seen of that set), else None."""
        y = self._sym[p : p + PLHEADER_SYMBOLS]
        if y.size < PLHEADER_SYMBOLS:
            return None
        _, _, g = decode_plsc(y, self._f_cyc, span if span > 1e-3 else 0.0)
        k = np.arange(PLHEADER_SYMBOLS)
        yr = y * np.exp(-2j * np.pi * self._f_cyc * k).astype(np.complex64)
        best = max((abs(np.vdot(vl.plheader_s2x(pls), yr)) / PLHEADER_SYMBOLS, st) for st, pls in vl.VLSNR_PLS.items())
        if best[0] <= abs(g):
            return None
        pf = self._vl_last.get(best[1]) or frame_params(next(n for n, c in vl.VLSNR_CODES.items() if c.set == best[1]))
        return p, pf.pls_code, pf

    def _vl_span(self) -> float:
        """Offset range (cycles/symbol) of a VL-SNR header check while locked: 4 sigma of the estimate, at least
        1e-3 (more than the header's own offset error) and at most 0.01."""
        return float(np.clip(4 * np.sqrt(self._f_var), 1e-3, 0.01))

    def _vl_demod(self, seg: np.ndarray, pls: int, pf: FrameParams, pos0: float, truncated: bool) -> FrameReport:
        """One VL-SNR frame: carrier phase from the known symbols (feed-forward over the header and the pilot
        blocks, which come every ~740 symbols, smoothed over more blocks at lower Es/N0); the slope of the fitted
        phase refines the carrier offset; then demapping and decoding."""
        assert pf.vlsnr is not None
        if truncated:
            return FrameReport(int(round(pos0)), pf.modcod, pf.frame, True, pls, 0, -1, False, float("nan"),
                               self.cfo_cyc, truncated=True)
        lay = vl.layout(pf.vlsnr.set)
        known, ref = vl.frame_reference(pf.modcod, self.gold_code)
        if self.sync == "genie":
            return self._vl_measure_and_decode(seg.astype(np.complex64), pos0, pls, pf, known, ref)
        starts, lens = list(lay.known_starts), list(lay.known_lens)
        kk = np.flatnonzero(known)
        zk = np.zeros(lay.length, dtype=np.complex64)
        zk[kk] = seg[kk] * np.conj(ref[kk]) * np.exp(-2j * np.pi * self._f_cyc * kk).astype(np.complex64)
        # Es/N0 of the header decides how many pilot blocks the phase is smoothed over (per 36-symbol block the
        # phase scatters by 1/sqrt(72 Es/N0) rad: 0.37 rad at -10 dB; 9 blocks span about 6600 symbols)
        g = np.mean(zk[: vl.KNOWN_HEAD_SYMBOLS])
        rho = abs(g) ** 2 / max(float(np.mean(np.abs(seg[: vl.KNOWN_HEAD_SYMBOLS]) ** 2)) - abs(g) ** 2, 1e-12)
        smooth = 3 if rho > 0.5 else 5 if rho > 0.2 else 7 if rho > 0.12 else 9
        phase, slope = block_phase(zk, starts, lens, lay.length, smooth)
        k = np.arange(lay.length)
        ph = 2 * np.pi * self._f_cyc * k + phase
        v = seg * (np.cos(ph) - 1j * np.sin(ph)).astype(np.complex64)
        rep = self._vl_measure_and_decode(v, pos0, pls, pf, known, ref)
        # the carrier after it: a failed frame's slope only when it is plausible
        f0, v0 = self._f_cyc, self._f_var
        if_ok = (f0 + slope, min(v0, 1e-10))
        if_not = (f0 + slope, min(v0, 1e-9)) if abs(slope) < 2e-4 else (f0, v0)
        self._f_frames += 1
        return self._carrier_after(rep, pf, if_ok, if_not)

    def _vl_measure_and_decode(self, v: np.ndarray, pos0: float, pls: int, pf: FrameParams, known: np.ndarray,
                               ref: np.ndarray) -> FrameReport:
        """Es/N0 from the known symbols of the phase-corrected VL-SNR frame v, then demapping and decoding."""
        assert pf.vlsnr is not None
        erased = self._erased(v.size)
        meas = known & ~erased if erased is not None and (known & ~erased).any() else known  # erased ones measure
        vk, rk = v[meas], ref[meas]  # nothing
        a = float(np.real(np.vdot(rk, vk)) / np.real(np.vdot(rk, rk)))
        noise = float(np.mean(np.abs(vk - a * rk) ** 2))
        a, noise = max(a, 1e-6), max(noise, 1e-9)
        rep = FrameReport(int(round(pos0)), pf.modcod, pf.frame, True, pls, 0, -1, False,
                          float(10 * np.log10(a * a / noise)), self.cfo_cyc)
        if not self.decode:
            return rep
        lay = vl.layout(pf.vlsnr.set)
        cplx, sign = vl.scrambling(pf.vlsnr.set, self.gold_code)
        d = v[lay.data]
        d = d * (np.conj(cplx[lay.data]) if pf.constellation == "QPSK" else sign[lay.data]) / np.float32(a)
        n_rel = noise / (a * a)

        def codeword_llrs() -> np.ndarray:  # on the decoding thread with a pool
            return vl.mother_llrs(vl.data_llrs(d, pf, n_rel), pf)

        return self._decode_frame(rep, codeword_llrs, pf)

    def _measure_and_decode(self, v: np.ndarray, pos0: float, pls: int, pf: FrameParams | None,
                            known: np.ndarray, ref: np.ndarray, wait: bool = False) -> FrameReport:
        """Es/N0 from the known symbols of the phase-corrected frame v (blanked ones left out), then demapping and
        decoding (on the decode pool, if there is one and not `wait`)."""
        erased = self._erased(v.size)
        meas = known & ~erased if erased is not None and (known & ~erased).any() else known  # erased ones measure
        vk = v[meas]  # nothing
        rk = ref[meas]
        a = float(np.real(np.vdot(rk, vk)) / np.real(np.vdot(rk, rk)))
        noise = float(np.mean(np.abs(vk - a * rk) ** 2))
        if a <= 0 or noise <= 0:
            a, noise = max(a, 1e-6), max(noise, 1e-6)
        esn0_db = float(10 * np.log10(a * a / noise))
        name = DUMMY if pf is None else pf.modcod
        frame = "normal" if pf is None else pf.frame
        pilots = False if pf is None else pf.pilots
        rep = FrameReport(int(round(pos0)), name, frame, pilots, pls, 0, -1, pf is None, esn0_db, self.cfo_cyc)
        if pf is None or not self.decode:
            return rep
        const = constellation(pf.constellation, pf.rate)
        data = v[PLHEADER_SYMBOLS:][~known[PLHEADER_SYMBOLS:]] / np.float32(a)
        gone = erased[PLHEADER_SYMBOLS:][~known[PLHEADER_SYMBOLS:]] if erased is not None else None

        def codeword_llrs() -> np.ndarray:  # on the decoding thread with a pool
            llr = soft_demap(data, const.points, const.labels_bits, noise / (a * a), self.maxlog)
            if gone is not None:  # the blanked symbols' bits: no information
                llr.reshape(gone.size, -1)[gone] = 0
            return deinterleave_llrs(llr, pf.constellation, pf.rate)

        return self._decode_frame(rep, codeword_llrs, pf, wait)

    def _decode_frame(self, rep: FrameReport, codeword_llrs: Callable[[], np.ndarray], pf: FrameParams,
                      wait: bool = False) -> FrameReport:
        """Demapping and decoding: in this thread, or (with a pool and not `wait`) handed to the pool."""
        if self._pool is None or wait:
            return self._decode(rep, codeword_llrs(), pf)
        from .decode_pool import decode_frame

        running = [f for f in self._futures.values() if not f.done()]  # type: ignore[attr-defined]
        if len(running) > 2 * self._pool.threads:  # a bounded queue: wait for the oldest
            running[0].result()  # type: ignore[attr-defined]
        self._futures[id(rep)] = self._pool.submit(decode_frame, rep, codeword_llrs, pf, self.max_iter,
                                                   self.keep_raw_field)
        return rep

    def _deliver(self, rep: FrameReport) -> FrameReport:
        """TS packets of a decoded frame (the deframer keeps the packet that straddles frames)."""
        if rep.modcod == DUMMY:
            return rep
        if rep.ok and rep.bbheader is not None:
            rep.ts, rep.ts_crc_errors = self._ts.push(rep.payload, rep.bbheader)
        else:
            self._ts.reset()
        return rep

    def _decode(self, rep: FrameReport, cw_llr: np.ndarray, pf: FrameParams) -> FrameReport:
        from .decode_pool import decode_frame

        return decode_frame(rep, cw_llr, pf, self.max_iter, self.keep_raw_field)

