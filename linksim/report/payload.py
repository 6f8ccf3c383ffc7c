"""The report's section on the satellite and the implementation losses: the transponder's operating point, power
robbing in a bent pipe (the budget's prediction through the amplifier model beside the classic linear-transponder
formula C/(C+N_u+J_u), and the receiver's measurement), interference from other carriers, and the implementation
losses the prediction includes. Reads the run directory only (timeline.csv, measured.csv, summary.json)."""

from __future__ import annotations

import html
import math

import numpy as np

from .data import RunData


def _mean(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(np.mean(a)) if a.size else math.nan


def _f(v: float, unit: str = "dB", digits: int = 2) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}f} {unit}".strip()


def _rows(r: RunData) -> list[tuple[str, str]]:
    sc = r.scenario
    sat = sc.get("satellite") or {}
    up = sc.get("uplink") or {}
    car = sc.get("carrier") or {}
    amp = sat.get("amplifier")
    rows: list[tuple[str, str]] = []
    if amp:
        rows.append(("Transponder amplifier", f"{amp.get('model', 'saleh')} at input back-off "
                     f"{_f(_mean(r.num('timeline', 'sat_ibo_db')))}: output back-off from the model "
                     f"{_f(_mean(r.num('timeline', 'obo_db')))}"
                     + ("; rings pre-distorted by the transmitter" if amp.get("predistortion") else "")))
    if up and up.get("bent_pipe", True):
        drive = r.num("timeline", "transponder_drive_db")
        eirp = r.num("timeline", "eirp_dbw")
        obo = r.num("timeline", "obo_db")
        share = eirp - (float(sat.get("eirp_dbw", math.nan)) - obo)  # the carrier's share of the output
        esn0_up = r.num("timeline", "esn0_up_db")
        rs = float(car.get("symbol_rate_baud", math.nan))
        bw = float(sat.get("transponder_bw_hz") or 1.25 * rs * (1 + float(car.get("rolloff", 0.2))))
        n_tp = 10.0 ** (-esn0_up / 10.0) * bw / rs
        linear = -10.0 * np.log10(1.0 + n_tp) - drive  # C / (C + N + J) in the transponder band
        rows.append(("Bent pipe: the carrier's share of the transponder output",
                     f"budget {_f(_mean(share))} ({'through the amplifier model' if amp else 'linear transponder'}"
                     f"); the linear formula C/(C+N_u+J_u) gives {_f(_mean(linear))}; transponder input "
                     f"{_f(_mean(drive))} over its nominal (uplink jamming)"))
        rows.append(("Bent pipe: receiver Es/N0", f"measured {_f(float(r.summary.get('esn0_est_db_mean', math.nan)))}"
                     f", budget {_f(float(r.summary.get('predicted_esn0_db_mean', math.nan)))}"))
    for col, label in (("ci_asi_db", "C/I adjacent satellites"), ("ci_xpol_db", "C/I cross-polar"),
                       ("cim_db", "C/IM"), ("ci_alloc_db", "C/I published allocations")):
        v = _mean(r.num("timeline", col))
        if math.isfinite(v):
            rows.append((label, _f(v)))
    for col, label in (("amp_loss_db", "amplifier distortion (in the prediction)"),
                       ("phase_noise_loss_db", "phase noise after carrier tracking (in the prediction)"),
                       ("fading_loss_db", "fast fading, mean (in the prediction)")):
        v = _mean(r.num("timeline", col))
        if math.isfinite(v) and abs(v) > 1e-6:
            rows.append((label, f"{_f(v)} (Es/N0 for decoding {_f(_mean(r.num('timeline', 'esn0_decode_db')))})"))
    return rows


def satellite_section(r: RunData) -> str:
    """An HTML table, or '' when the run has none of these terms."""
    rows = _rows(r)
    if not rows:
        return ""
    body = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in rows)
    return f"<h2>Satellite, interference and implementation losses</h2><table>{body}</table>"


__all__ = ["satellite_section"]
