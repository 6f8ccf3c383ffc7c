"""Spreading and hopping against jammers, measured against theory (docs/antijam.md, "Waveforms").

Three parts, all TX -> linksim channel (jammer, no thermal noise unless said) -> RX in process, full sync
(acquisition of the code phase and carrier, frame sync), QPSK 1/2 short frames with pilots, 10 kBd:

- margin: the J/S (in the victim's occupied band) at which the FER crosses 0.5, for spreading factors N, under a
  barrage over the spread carrier's occupied band (N R_s (1 + a)) and under a CW tone at --tone-offset of the chip
  rate from the carrier. Theory: despread, a barrage leaves Es/J0 = (S/J) N (1 + a), so the J/S at any FER grows
  by 10 log10 N over N = 1; a tone passes `tone_pass_fraction` of its power (1/N on average over codes, the
  exact value for this code printed), so against the despread-tone-as-noise point T50 (the Es/J0 where the barrage
  FER crosses 0.5 at N = 1) the processing gain is 10 log10 N - 10 log10 (N x pass).
- partial: a hopper over K channels (dwell one PLFRAME), a partial-band jammer covering k of them; theory: the
  frames of the jammed hops are lost, FER = k/K over whole pattern cycles (the count for the frames measured, from
  the hop pattern, is printed beside it). The first --skip frames are not counted (the receiver's start-up).
- follower: a hopper over K channels, dwell D PLFRAMEs, a follower that re-centres on each hop after its reaction
  time R (plus half its look window, R/8): frames that start after the follower is on are lost, FER = (D - m)/D
  with m = ceil(R'/T_f) - 1 the frames that end before it (R' = R + R/16, T_f the PLFRAME duration); 0 when
  R' >= D T_f. Exactly: the follower is at time t on the channel the carrier used at t - R', so a frame is lost
  when that is its own channel at some instant of it; the count from the hop pattern adds the hops where the
  pattern comes back within R' to a channel it left (printed beside the formula).

    .venv/bin/python benchmarks/antijam_waveforms.py margin --spreading 1,4,16,64 --frames 40
    .venv/bin/python benchmarks/antijam_waveforms.py partial --frames 64
    .venv/bin/python benchmarks/antijam_waveforms.py follower --dwells 1,2,3,4,6,8 --frames 48
    .venv/bin/python benchmarks/antijam_waveforms.py speed --spreading 4,16,64

- speed: the despreader's throughput while tracking (Mchip per CPU second: matched filter, three interpolated
  correlations per chip, loops) and one acquisition search (CPU seconds), beside stock GNU Radio doing the bare
  despreading arithmetic at a known chip timing (fir_filter_ccf RRC matched filter, keep_one_in_n, multiply_cc by
  the code, integrate_cc over N): equal work but no timing, carrier or lock, so the ratio favours GNU Radio.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.dvbs2.hopping import HopPlan, follower_hit_frames  # noqa: E402
from linksim.dvbs2.link import run_link  # noqa: E402
from linksim.dvbs2.params import frame_params  # noqa: E402
from linksim.dvbs2.spreading import tone_pass_fraction  # noqa: E402
from linksim.dvbs2.waveform import Waveform  # noqa: E402

MODCOD = "QPSK 1/2"
FRAME = "short"
RS = 10e3
ROLLOFF = 0.2
NO_NOISE_DB = 60.0


def crossing(points: list[tuple[float, float]], level: float = 0.5) -> float:
    """J/S where the FER (rising with J/S) first reaches `level`, linear between the points around it."""
    for (x0, f0), (x1, f1) in zip(points, points[1:], strict=False):
        if f0 < level <= f1:
            return x0 + (level - f0) / (f1 - f0) * (x1 - x0)
    return float("nan")


def jammer_spec(kind: str, n: int, js_db: float, tone_offset: float) -> str:
    if kind == "barrage":
        return f"type=barrage,js_db={js_db:.4f},bandwidth_hz={RS * n * (1 + ROLLOFF):.6g}"
    return f"type=cw,js_db={js_db:.4f},offset_hz={tone_offset * RS * n:.6g}"


def fer_at(n: int, kind: str, js_db: float, frames: int, seed: int, tone_offset: float) -> float:
    r = run_link(MODCOD, NO_NOISE_DB, frames=frames, frame=FRAME, symbol_rate_baud=RS, rolloff=ROLLOFF, seed=seed,
                 waveform=Waveform(n, 1, 2, symbol_rate_baud=RS, rolloff=ROLLOFF),
                 jammers=[jammer_spec(kind, n, js_db, tone_offset)])
    return r.fer


def sweep(n: int, kind: str, centre_db: float, frames: int, seed: int, step: float, tone_offset: float,
          half_width: float = 1.0) -> tuple[list[tuple[float, float]], float]:
    """FER over J/S = centre +- half_width in `step` steps (widened until it crosses 0.5)."""
    pts: dict[float, float] = {}
    lo, hi = centre_db - half_width, centre_db + half_width
    for _ in range(4):
        for js in np.arange(lo, hi + 1e-9, step):
            js = round(float(js), 3)
            if js not in pts:
                pts[js] = fer_at(n, kind, js, frames, seed, tone_offset)
        p = sorted(pts.items())
        if p[0][1] >= 0.5:
            lo, hi = lo - 2 * half_width, lo - step
        elif p[-1][1] < 0.5:
            lo, hi = hi + step, hi + 2 * half_width
        else:
            break
    p = sorted(pts.items())
    return p, crossing(p)


def part_margin(args: argparse.Namespace) -> None:
    ns = [int(x) for x in args.spreading.split(",")]
    t0 = time.process_time()
    # reference: N = 1 under the barrage, around Es/J0 = 0.5 dB
    ref_pts, ref = sweep(1, "barrage", 10 * math.log10(1 + ROLLOFF) - 0.4, args.frames, args.seed, args.step,
                         args.tone_offset)
    t50 = 10 * math.log10(1 + ROLLOFF) - ref  # Es/J0 at FER 0.5
    print(f"# {MODCOD} {FRAME} frames, {args.frames} frames per point, full sync, no thermal noise")
    print(f"# reference N=1 barrage: J/S at FER 0.5 = {ref:.2f} dB (Es/J0 {t50:.2f} dB); points {ref_pts}")
    print("| jammer | N | 10 log10 N | J/S at FER 0.5 (dB) | measured gain (dB) | theory gain (dB) | "
          "measured - theory (dB) | FER points (J/S: FER) |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in args.jammers.split(","):
        for n in ns:
            if kind == "barrage":
                theory = 10 * math.log10(n)
                centre = ref + theory
            else:
                p = tone_pass_fraction(n, 1, args.tone_offset, ROLLOFF)
                theory = -10 * math.log10(p)  # SIR per symbol over S/J, despread tone as noise
                centre = theory - t50
            if n == 1 and kind == "barrage":
                pts, js50 = ref_pts, ref
            else:
                pts, js50 = sweep(n, kind, centre, args.frames, args.seed, args.step, args.tone_offset)
            gain = js50 - ref if kind == "barrage" else js50 + t50
            pts_s = " ".join(f"{x:+.2f}:{f:.2f}" for x, f in pts)
            print(f"| {kind} | {n} | {10 * math.log10(n):.2f} | {js50:.2f} | {gain:.2f} | {theory:.2f} | "
                  f"{gain - theory:+.2f} | {pts_s} |", flush=True)
    print(f"# {time.process_time() - t0:.0f} CPU s")


def hop_waveform(channels: int, spacing_hz: float, dwell_s: float, seed: int = 1) -> Waveform:
    return Waveform(1, 1, 2, HopPlan(channels, spacing_hz, dwell_s, seed), RS, ROLLOFF)


def part_partial(args: argparse.Namespace) -> None:
    k_ch = args.channels
    spacing = args.spacing * RS
    t_f = frame_params(MODCOD, FRAME, True).plframe_symbols / RS
    wf = hop_waveform(k_ch, spacing, t_f, args.seed)
    offsets = wf.hopping.offsets_hz() if wf.hopping is not None else np.zeros(1)
    print(f"# hopper: {k_ch} channels {spacing:g} Hz apart, dwell one PLFRAME ({t_f * 1e3:.1f} ms), "
          f"{wf.samples_per_symbol} samples/symbol; partial-band jammer over the lowest k channels, J/S "
          f"{args.js_db:g} dB in the hop set's band; {args.frames} frames")
    print("| channels jammed k | k/K | frames in jammed hops (theory FER) | measured FER | frames lost / counted |")
    print("|---|---|---|---|---|")
    for k in [int(x) for x in args.jammed.split(",")]:
        centre = float(np.mean(offsets[:k]))
        width = k * spacing
        band = wf.hopping.band_hz(wf.occupied_bw_hz) if wf.hopping is not None else 0.0
        spec = (f"type=partial_band,js_db={args.js_db},band_hz={band:.6g},rho={width / band:.6g},"
                f"offset_hz={centre:.6g}")
        r = run_link(MODCOD, NO_NOISE_DB, frames=args.frames, frame=FRAME, symbol_rate_baud=RS, rolloff=ROLLOFF,
                     seed=args.seed, waveform=wf, jammers=[spec], skip_frames=args.skip)
        hops = np.arange(args.skip, args.skip + args.frames)  # one frame per hop, from the hop clock's origin
        hit = int(np.sum(wf.hopping.channel_of_hop(hops) < k)) if wf.hopping is not None else 0
        print(f"| {k} | {k / k_ch:.3f} | {hit} / {r.frames} = {hit / r.frames:.3f} | {r.fer:.3f} | "
              f"{r.frame_errors} / {r.frames} |", flush=True)


def part_follower(args: argparse.Namespace) -> None:
    k_ch = args.channels
    spacing = args.spacing * RS
    t_f = frame_params(MODCOD, FRAME, True).plframe_symbols / RS
    react = args.reaction * t_f
    look = react / 8
    r_eff = react + look / 2
    bw = RS * (1 + ROLLOFF)
    print(f"# hopper: {k_ch} channels {spacing:g} Hz apart; follower: reaction {react * 1e3:.1f} ms "
          f"({args.reaction:g} PLFRAMEs), look {look * 1e3:.2f} ms, on from {r_eff * 1e3:.1f} ms after a hop on "
          f"average, J/S {args.js_db:g} dB while on; PLFRAME {t_f * 1e3:.1f} ms; {args.frames} frames per dwell")
    print("| dwell (PLFRAMEs) | dwell (ms) | share of dwell jammed | (D - m)/D | frames the follower reaches "
          "(theory FER) | measured FER | frames lost / counted |")
    print("|---|---|---|---|---|---|---|")
    for d in [int(x) for x in args.dwells.split(",")]:
        wf = hop_waveform(k_ch, spacing, d * t_f, args.seed)
        m = min(d, math.ceil(r_eff / t_f) - 1) if r_eff < d * t_f else d
        theory = (d - m) / d
        jammed = max(0.0, 1 - r_eff / (d * t_f))
        spec = (f"type=hop_follower,js_db={args.js_db},bandwidth_hz={bw:.6g},reaction_time_s={react:.6g},"
                f"look_time_s={look:.6g}")
        skip = d * math.ceil(args.skip / d)  # whole dwells of warm-up
        frames = d * max(1, round(args.frames / d))
        r = run_link(MODCOD, NO_NOISE_DB, frames=frames, frame=FRAME, symbol_rate_baud=RS, rolloff=ROLLOFF,
                     seed=args.seed, waveform=wf, jammers=[spec], skip_frames=skip)
        assert wf.hopping is not None
        hits = follower_hit_frames(wf.hopping, t_f, skip, frames, r_eff)
        print(f"| {d} | {d * t_f * 1e3:.0f} | {jammed:.3f} | {theory:.3f} | {hits} / {frames} = {hits / frames:.3f} | "
              f"{r.fer:.3f} | {r.frame_errors} / {r.frames} |", flush=True)


def part_speed(args: argparse.Namespace) -> None:
    """Despreader throughput against stock GNU Radio doing the despreading arithmetic at a known chip timing."""
    from linksim.dvbs2.rrc import RrcInterpolator, rrc_taps
    from linksim.dvbs2.spreading import Despreader, Spreader, chip_code

    print("| N | linksim despreader, tracking (Mchip per CPU s) | one acquisition search (CPU s) | "
          "GNU Radio fir_filter_ccf + keep_one_in_n + multiply_cc + integrate_cc (Mchip per CPU s) | ratio |")
    print("|---|---|---|---|---|")
    for n in [int(x) for x in args.spreading.split(",")]:
        rng = np.random.default_rng(1)
        syms = ((rng.choice([1, -1], args.symbols) + 1j * rng.choice([1, -1], args.symbols)) / np.sqrt(2))
        rrc = RrcInterpolator(ROLLOFF, 2)
        x = np.concatenate([rrc(Spreader(n, 1)(syms)), rrc.flush()])
        x = (x + 0.3 * (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size))).astype(np.complex64)
        d = Despreader(n, 1, 2, ROLLOFF)
        cut = x.size // 3  # the acquisition (and its carrier estimate) lies in the first third
        d.process(x[:cut])
        t1 = time.process_time()
        d.process(x[cut:])
        t2 = time.process_time()
        chips = (x.size - cut) / 2
        ours = chips / (t2 - t1) / 1e6
        d2 = Despreader(n, 1, 2, ROLLOFF)
        noise = (rng.standard_normal(x.size // 4) + 1j * rng.standard_normal(x.size // 4)).astype(np.complex64)
        t3 = time.process_time()
        d2.process(noise)
        search = (time.process_time() - t3) / max(d2.stats["searches"], 1)
        gr_rate = _gr_despread_rate(x, n, rrc_taps(ROLLOFF, 2, 24), chip_code(n, 1))
        print(f"| {n} | {ours:.2f} | {search:.3f} | {gr_rate:.2f} | {ours / gr_rate:.2f}x |", flush=True)


def _gr_despread_rate(x: np.ndarray, n: int, taps: np.ndarray, code: np.ndarray) -> float:
    """Mchip per CPU second of the stock chain: RRC matched filter, one sample per chip, times the code, sum of N."""
    from gnuradio import blocks, filter, gr

    tb = gr.top_block()
    src = blocks.vector_source_c(x.tolist(), False)
    mf = filter.fir_filter_ccf(1, taps.astype(np.float32).tolist())
    keep = blocks.keep_one_in_n(gr.sizeof_gr_complex, 2)
    cod = blocks.vector_source_c(np.conj(code).tolist(), True)
    mul = blocks.multiply_cc()
    integ = blocks.integrate_cc(n)
    sink = blocks.null_sink(gr.sizeof_gr_complex)
    tb.connect(src, mf, keep, (mul, 0))
    tb.connect(cod, (mul, 1))
    tb.connect(mul, integ, sink)
    t0 = time.process_time()
    tb.run()
    return x.size / 2 / (time.process_time() - t0) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="part", required=True)
    m = sub.add_parser("margin", help="J/S at FER 0.5 against the spreading factor")
    m.add_argument("--spreading", default="1,4,16,64")
    m.add_argument("--jammers", default="barrage,cw")
    m.add_argument("--frames", type=int, default=40)
    m.add_argument("--step", type=float, default=0.25, help="J/S step of the sweeps (dB)")
    m.add_argument("--tone-offset", type=float, default=0.013, help="CW offset, cycles per chip (0.013)")
    m.add_argument("--seed", type=int, default=3)
    m.set_defaults(func=part_margin)
    for name, text, js, frames, func in (("partial", "partial-band jammer against a hopper", 15.0, 64, part_partial),
                                         ("follower", "follower jammer against a hopper, by dwell time", 10.0, 48,
                                          part_follower)):
        p = sub.add_parser(name, help=text)
        p.add_argument("--channels", type=int, default=8)
        p.add_argument("--spacing", type=float, default=1.5, help="channel spacing in symbol rates (1.5)")
        p.add_argument("--js-db", type=float, default=js, help=f"J/S (dB; {js:g})")
        p.add_argument("--frames", type=int, default=frames)
        p.add_argument("--skip", type=int, default=4, help="warm-up frames not counted (4; whole dwells)")
        p.add_argument("--seed", type=int, default=3)
        p.set_defaults(func=func)
        if name == "partial":
            p.add_argument("--jammed", default="1,2,3,4", help="channels jammed, a list")
        else:
            p.add_argument("--dwells", default="1,2,3,4,6,8", help="dwells in PLFRAMEs, a list")
            p.add_argument("--reaction", type=float, default=2.5, help="reaction time in PLFRAMEs (2.5)")
    sp = sub.add_parser("speed", help="despreader throughput against a stock GNU Radio chain")
    sp.add_argument("--spreading", default="4,16,64")
    sp.add_argument("--symbols", type=int, default=40000)
    sp.set_defaults(func=part_speed)
    args = ap.parse_args()
    args.func(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
