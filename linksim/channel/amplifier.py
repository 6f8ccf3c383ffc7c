"""Amplifiers on the sample clock: a transponder's TWTA or SSPA, or a ground station's HPA, applied to IQ.

`Amplifier(model, ibo_db, input_power, sps)` drives the memoryless AM/AM and AM/PM of a model from
linksim.budget.transponder (Saleh, Rapp, a measured table; the budget computes the output back-off and the
distortion terms from the same curves) at input back-off ibo_db for a stream of mean power input_power:
    y = G(|u|) exp(j (arg u + Phi(|u|))),   u = x 10^(-ibo_db/20) / sqrt(input_power)
with the output in units of the saturated CW output (a CW at ibo_db = 0 comes out at power 1). With a fixed drive,
extra input power (an uplink jammer) pushes the amplifier further into compression, as in a fixed-gain transponder.

A nonlinearity widens the spectrum (third-order products reach three times the signal's bandwidth). At 2 samples per
symbol that regrowth would fold back onto the carrier, which the real amplifier does not do; the amplifier therefore
runs at OVERSAMPLED_SPS = 8 samples per symbol or more: the stream is interpolated by L = ceil(8 / sps) with a
windowed-sinc FIR, the curves are applied, and the result is filtered and decimated by L (the output filter keeps
the regrowth inside the stream's own band, as a transponder's output filter would). Both filters have
FILTER_TAPS_PER_PHASE x L + 1 taps; together they delay the stream by `latency_samples` = FILTER_TAPS_PER_PHASE
samples (none when L = 1). The output does not depend on how the stream is cut into chunks.

`parse_amplifier("saleh,ibo_db=3")` reads the command-line form: a model name (saleh, rapp, linear) or a table
file (CSV with columns pin_db, pout_db, phase_deg), then NAME=VALUE items: ibo_db, and the model's parameters
(saleh: alpha_a, beta_a, alpha_phi, beta_phi; rapp: p).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..budget import transponder as tp
from ..compiled import kernel
from ..errors import InputError
from .spec_list import parse_spec_list

OVERSAMPLED_SPS = 8.0
FILTER_TAPS_PER_PHASE = 16
KAISER_BETA = 6.0


def oversampling_factor(sps: float) -> int:
    """L: the interpolation factor that puts the nonlinearity at >= OVERSAMPLED_SPS samples per symbol."""
    return max(1, math.ceil(OVERSAMPLED_SPS / float(sps) - 1e-9))


def _lowpass(factor: int) -> np.ndarray:
    """Windowed-sinc low-pass at the original Nyquist frequency, at `factor` times the rate, unit DC gain."""
    n = FILTER_TAPS_PER_PHASE * factor + 1
    k = np.arange(n) - (n - 1) / 2
    h = np.sinc(k / factor) * np.kaiser(n, KAISER_BETA)
    return h / h.sum()


class Oversampled:
    """Runs a memoryless function at L times the stream's rate (see the module docstring), chunk-invariant."""

    def __init__(self, factor: int) -> None:
        self.factor = int(factor)
        self._h = _lowpass(self.factor) if self.factor > 1 else None
        self._hist_in = np.zeros(FILTER_TAPS_PER_PHASE, dtype=np.complex128)
        self._hist_hi = np.zeros(FILTER_TAPS_PER_PHASE * self.factor, dtype=np.complex128)

    @property
    def latency_samples(self) -> int:
        return FILTER_TAPS_PER_PHASE if self.factor > 1 else 0

    def process(self, x: np.ndarray, fn, threads: int = 1) -> np.ndarray:  # noqa: ANN001 - array -> array
        """fn (a memoryless function of complex128 arrays) applied at L times the rate of chunk x; the filters
        run on `threads` threads (the output does not depend on it)."""
        if self._h is None:
            return fn(np.asarray(x, dtype=np.complex128))
        L, k = self.factor, FILTER_TAPS_PER_PHASE
        n = x.size
        buf = np.concatenate([self._hist_in, np.asarray(x, dtype=np.complex128)])
        hi = np.empty(n * L, dtype=np.complex128)
        hl = self._h * L
        _in_pieces(threads, n * L, lambda a, b: _interpolate(buf, hl, L, k, a, hi[a:b]))
        self._hist_in = buf[-k:]
        buf_hi = np.concatenate([self._hist_hi, fn(hi)])
        out = np.empty(n, dtype=np.complex128)
        _in_pieces(threads, n, lambda a, b: _decimate(buf_hi, self._h, L, k, a, out[a:b]))
        self._hist_hi = buf_hi[-k * L :]
        return out


def _in_pieces(threads: int, n: int, fn) -> None:  # noqa: ANN001 - fn(lo, hi) on [lo, hi)
    """fn over [0, n) cut into pieces that `threads` threads take in turn (linksim.channel.parallel)."""
    from .parallel import pieces, run_pieces, split_points

    run_pieces(threads, fn, split_points(0, n, 1, pieces(threads)))


@kernel(nogil=True)
def _interpolate(buf, hl, L, k, j0, out):  # noqa: ANN001, ANN202 - numba kernel
    """Interpolation by L with the filter hl (k L + 1 taps): out[j - j0] is sample k L + j of the zero-stuffed buf
    filtered by hl, buf being k samples of history followed by the chunk (what scipy's upfirdn(hl, buf, up=L)
    gives there). Each output sums its taps in the same order whatever the chunking or the pieces."""
    for jj in range(out.shape[0]):
        j = j0 + jj
        big_j = k * L + j
        acc = 0j
        for i in range((j + L - 1) // L, k + j // L + 1):
            acc += buf[i] * hl[big_j - i * L]
        out[jj] = acc


@kernel(nogil=True)
def _decimate(buf_hi, h, L, k, p0, out):  # noqa: ANN001, ANN202 - numba kernel
    """Filtering by h (k L + 1 taps) and decimation by L: out[p - p0] is sample k + p of upfirdn(h, buf_hi,
    down=L), buf_hi being k L samples of history followed by the chunk at the high rate."""
    for pp in range(out.shape[0]):
        p = p0 + pp
        q = (k + p) * L
        acc = 0j
        for m in range(p * L, q + 1):
            acc += buf_hi[m] * h[q - m]
        out[pp] = acc


_LINEAR, _SALEH, _RAPP = 0, 1, 2


@kernel(nogil=True)
def _memoryless(u, drive, scale, kind, p1, p2, p3, p4, r_sat, a_sat, out):  # noqa: ANN001, ANN202 - numba kernel
    """linksim.budget.transponder.transfer of the Saleh (p1..p4 = alpha_a, beta_a, alpha_phi, beta_phi) or Rapp
    (p1 = smoothness) model, or linear, at drive `drive`, times `scale`, sample by sample (no temporaries)."""
    for i in range(u.shape[0]):
        v = u[i] * drive
        if kind == _LINEAR:
            out[i] = v * scale
            continue
        r = abs(v)
        if r == 0.0:
            out[i] = 0j
            continue
        rs = r * r_sat
        if kind == _SALEH:
            rs2 = rs * rs
            g = p1 * rs / (1.0 + p2 * rs2) / a_sat
            ph = p3 * rs2 / (1.0 + p4 * rs2)
            out[i] = (g / r * scale) * v * complex(np.cos(ph), np.sin(ph))
        else:
            e = 2.0 * p1
            g = rs / (1.0 + rs**e) ** (1.0 / e) / a_sat
            out[i] = (g / r * scale) * v


@dataclass(frozen=True)
class AmplifierSpec:
    """An amplifier as configured: its model and input back-off (dB)."""

    model: tp.AmplifierModel | None  # None: linear (an ideal amplifier)
    ibo_db: float = 0.0

    @property
    def name(self) -> str:
        return "linear" if self.model is None else self.model.name


class Amplifier:
    """A stateful, chunk-invariant amplifier block (see the module docstring).

    model: a linksim.budget.transponder model, or None for an ideal linear amplifier (gain only)
    ibo_db: input back-off of a stream of mean power input_power (drive fixed: more input power compresses more)
    sps: samples per symbol of the stream (sets the oversampling factor)
    output_scale: multiplies the output (1: saturated CW output power 1)
    threads: how many threads run its filters and curves (the output does not depend on it)
    """

    def __init__(self, model: tp.AmplifierModel | None, ibo_db: float = 0.0, input_power: float = 1.0,
                 sps: float = 2.0, output_scale: float = 1.0, threads: int = 1) -> None:
        if not math.isfinite(ibo_db) or not -10.0 <= ibo_db <= 40.0:
            raise InputError(f"amplifier ibo_db: must be in -10..40 dB, got {ibo_db}")
        if not (math.isfinite(input_power) and input_power > 0):
            raise InputError(f"amplifier input_power: must be > 0, got {input_power}")
        if not (math.isfinite(sps) and sps > 0):
            raise InputError(f"amplifier sps: must be > 0, got {sps}")
        self.model = model
        self.ibo_db = float(ibo_db)
        self.input_power = float(input_power)
        self.output_scale = float(output_scale)
        self.threads = max(1, int(threads))
        self._drive = tp.drive_scale(self.ibo_db, self.input_power)
        self._os = Oversampled(oversampling_factor(sps) if model is not None else 1)
        self._n = 0

    @property
    def latency_samples(self) -> int:
        return self._os.latency_samples

    @property
    def n_processed(self) -> int:
        return self._n

    def curve(self, u: np.ndarray) -> np.ndarray:
        """The memoryless transfer at the block's drive (input in the stream's units): a numba kernel for the
        linear, Saleh and Rapp models, linksim.budget.transponder.transfer for a table."""
        m = self.model
        if m is None or isinstance(m, tp.Saleh | tp.Rapp):
            u = np.ascontiguousarray(u, dtype=np.complex128)
            y = np.empty_like(u)
            if m is None:
                args = (_LINEAR, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0)
            elif isinstance(m, tp.Saleh):
                args = (_SALEH, m.alpha_a, m.beta_a, m.alpha_phi, m.beta_phi, m.r_sat, m.a_sat)
            else:
                args = (_RAPP, m.smoothness, 0.0, 0.0, 0.0, m.r_sat, m.a_sat)
            _in_pieces(self.threads, u.size,
                       lambda a, b: _memoryless(u[a:b], self._drive, self.output_scale, *args, y[a:b]))
            return y
        return tp.transfer(m, u * self._drive) * self.output_scale

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 1:
            raise InputError("amplifier input: must be a one-dimensional complex stream")
        self._n += x.size
        if x.size == 0:
            return np.zeros(0, dtype=np.complex64)
        return self._os.process(x, self.curve, self.threads).astype(np.complex64)


def aligned(chunks, amp: Amplifier):  # noqa: ANN001, ANN201 - an iterable of arrays in, a generator out
    """The amplifier's output for a stream given as chunks, with its latency removed (the first latency_samples
    dropped, the end flushed with zeros): output sample n is the amplified input sample n."""
    lat = amp.latency_samples
    n_in = n_out = 0
    for c in chunks:
        y = amp.process(c)
        n_in += np.size(c)
        y = y[max(0, lat - (n_in - y.size)):]  # output index < lat is the filters' start-up
        n_out += y.size
        yield y
    if lat:
        y = amp.process(np.zeros(lat, dtype=np.complex64))
        yield y[: n_in - n_out]


def output_power(chunks, spec: AmplifierSpec, input_power: float, sps: float,  # noqa: ANN001
                 threads: int = 1) -> float:
    """Mean |y|^2 of the amplifier's output over a stream given as chunks (a first pass over a file)."""
    amp = Amplifier(spec.model, spec.ibo_db, input_power, sps, threads=threads)
    acc, n = 0.0, 0
    for y in aligned(chunks, amp):
        acc += float(np.sum(np.abs(y.astype(np.complex128)) ** 2))
        n += y.size
    return acc / max(n, 1)


def _number(spec: str, key: str, v: str) -> float:
    try:
        f = float(v)
    except ValueError:
        raise InputError(f"amplifier '{spec}': {key}: '{v}' is not a number") from None
    if not math.isfinite(f):
        raise InputError(f"amplifier '{spec}': {key}: must be finite")
    return f


def read_table(path: str | Path) -> tp.TableAmplifier:
    """A measured AM/AM-AM/PM table from a CSV file with columns pin_db, pout_db and phase_deg (header row)."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise InputError(f"amplifier table {p}: cannot read ({e.strerror})") from None
    rows = list(csv.DictReader(ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")))
    need = ("pin_db", "pout_db")
    if not rows or any(k not in rows[0] for k in need):
        raise InputError(f"amplifier table {p}: needs a header with pin_db, pout_db (and phase_deg)")
    try:
        return tp.from_table_rows([{k: float(v) for k, v in r.items() if k and v not in (None, "")} for r in rows])
    except ValueError as e:
        raise InputError(f"amplifier table {p}: {e}") from None


def parse_amplifier(spec: str) -> AmplifierSpec:
    """'saleh,ibo_db=3' | 'rapp,p=2.5,ibo_db=1' | 'linear' | 'table.csv,ibo_db=2' -> AmplifierSpec."""
    head, _, rest = spec.strip().partition(",")
    head = head.strip()
    if not head:
        raise InputError("amplifier: empty spec (saleh, rapp, linear or a table file, then ibo_db=X)")
    values, _typed = parse_spec_list(rest, f"amplifier '{spec}'")
    kw = {k: _number(spec, k, v) for k, v in values.items()}
    ibo = kw.pop("ibo_db", 0.0)
    name = head.lower()
    allowed = {"saleh": ("alpha_a", "beta_a", "alpha_phi", "beta_phi"), "rapp": ("p",), "linear": ()}
    if name in allowed:
        bad = [k for k in kw if k not in allowed[name]]
        if bad:
            ok = ", ".join(("ibo_db", *allowed[name]))
            raise InputError(f"amplifier '{spec}': unknown key {bad[0]!r} (allowed: {ok})")
        if name == "saleh":
            model: tp.AmplifierModel | None = tp.Saleh(**kw)
        elif name == "rapp":
            model = tp.Rapp(kw.get("p", 2.0))
        else:
            model = None
    else:
        if kw:
            raise InputError(f"amplifier '{spec}': a table file takes only ibo_db, got {next(iter(kw))!r}")
        if not Path(head).is_file():
            raise InputError(f"amplifier '{spec}': '{head}' is neither saleh, rapp, linear nor a table file")
        model = read_table(head)
    if not -10.0 <= ibo <= 40.0:
        raise InputError(f"amplifier '{spec}': ibo_db: must be in -10..40 dB, got {ibo:g}")
    return AmplifierSpec(model, ibo)


__all__ = ["Amplifier", "AmplifierSpec", "Oversampled", "aligned", "output_power", "oversampling_factor",
           "parse_amplifier", "read_table"]
