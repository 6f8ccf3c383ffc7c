"""Human-readable budget tables: one instant laid out the way a link-budget spreadsheet reads, and a summary."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..dbmath import BOLTZMANN_DBW_K_HZ, lin_to_db
from ..geometry import antenna
from ..scenario import modcods
from .timeline import Timeline


def _f(v: Any, fmt: str = "{:10.2f}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return f"{'n/a':>10}"
    if isinstance(v, float) and math.isinf(v):
        return f"{'inf' if v > 0 else '-inf':>10}"
    return fmt.format(v)


def instant_table(tl: Timeline, i: int) -> str:
    """The budget at row i, one term a line with units, in the order of the calculation."""
    s = tl.scenario
    r = tl.row(i)
    c = s.carrier
    term = s.terminal
    g_peak = float(antenna.peak_gain_dbi(term.antenna_diameter_m, term.antenna_efficiency, c.freq_hz))
    mc = modcods.get(c.modcod)
    lines: list[tuple[str, Any, str]] = []

    def add(label: str, value: Any, unit: str = "") -> None:
        lines.append((label, value, unit))

    def sec(title: str) -> None:
        lines.append((f"-- {title}", None, "__section__"))

    sec("geometry")
    add("elevation", r["elevation_deg"], "deg")
    add("azimuth", r["azimuth_deg"], "deg")
    add("slant range", r["slant_range_km"], "km")
    add("range rate", r["range_rate_m_s"], "m/s")
    add("Doppler", r["doppler_hz"], "Hz")
    add("one-way delay", r["delay_s"] * 1e3 if r["delay_s"] is not None else None, "ms")
    sec("downlink")
    add("satellite EIRP (signal share)", r["eirp_dbw"], "dBW")
    add("free-space loss", -r["fspl_db"], "dB")
    add("gas (P.676)", -_nz(r["gas_db"]), "dB")
    add("cloud (P.840)", -_nz(r["cloud_db"]), "dB")
    add("rain (P.618)", -_nz(r["rain_db"]), "dB")
    add("tropospheric scintillation", -_nz(r["scintillation_db"]), "dB")
    if s.propagation.ionosphere is not None:
        add("ionospheric scintillation", -_nz(r["iono_scintillation_db"]), "dB")
    add("total atmospheric (P.618 2.5)", -_nz(r["atmospheric_db"]), "dB")
    add("pointing loss", -term.pointing_loss_db, "dB")
    if term.other_losses_db:
        add("other losses", -term.other_losses_db, "dB")
    sec("terminal")
    add("antenna peak gain", g_peak, "dBi")
    add("feed loss", -term.feed_loss_db, "dB")
    if s.events:
        add("antenna events (wet/snow)", -r["antenna_event_db"], "dB")
    add("sky noise temperature", r["sky_temp_k"], "K")
    add("LNA noise temperature", term.lna_temp_k, "K")
    add("system noise temperature", r["system_temp_k"], "K")
    add("G/T", r["gt_dbk"], "dB/K")
    add("Boltzmann constant", BOLTZMANN_DBW_K_HZ, "dBW/K/Hz")
    sec("carrier")
    add("C/N0 downlink", r["cn0_dbhz"], "dBHz")
    add("symbol rate", float(lin_to_db(c.symbol_rate_baud)), "dBHz")
    add("Es/N0 downlink", r["esn0_down_db"], "dB")
    if s.uplink is not None:
        add("Es/N0 uplink", r["esn0_up_db"], "dB")
    add("Es/N0 end to end (thermal)", r["esn0_db"], "dB")
    if c.spreading_factor > 1:  # the chip SNR, and what despreading gives back
        add(f"Ec/N0 per chip ({c.spreading_factor} chips/symbol)",
            r["esn0_db"] - float(lin_to_db(c.spreading_factor)) if r["esn0_db"] is not None else None, "dB")
        add("processing gain", float(lin_to_db(c.spreading_factor)), "dB")
    if c.hopping is not None:
        add(f"hop set: {c.hopping.channels} channels, band", float(lin_to_db(c.victim_band_hz)), "dBHz")
    for j in r["jammers"]:
        where = "sat input" if j["target"] == "uplink" else f"{_f(j['off_axis_deg'], '{:.1f}').strip()} deg off axis"
        add(f"J/S {j['name']} ({j['type']}, {where})", j["js_db"], "dB")
    add("C/(N+I+J)", r["cnij_db"], "dB")
    if c.hopping is not None:
        add("hops lost (C/(N+I+J) below threshold)", r["hop_loss_fraction"], "share")
    sec("MODCOD")
    add(f"{mc.name} threshold (Table 13)", mc.esn0_qef_db, "dB")
    add("margin", r["margin_db"], "dB")
    add(f"best MODCOD that closes: {r['best_modcod'] or 'none'}", r["best_eta"], "bit/sym")

    width = max(len(label) for label, _, _ in lines) + 2
    out = [f"{s.name}  at {r['time_utc']}  (row {i}, t = {r['time_s']:g} s)"]
    for label, value, unit in lines:
        if unit == "__section__":
            out.append(label)
        else:
            out.append(f"  {label:<{width}}{_f(value)}  {unit}")
    return "\n".join(out)


def _nz(v: float | None) -> float:
    return 0.0 if v is None else v


def summary(tl: Timeline) -> dict[str, Any]:
    """Timeline statistics: ranges of the main terms and availability of the scenario's MODCOD."""
    vis = tl["visible"]
    margin = tl["margin_db"]
    n = len(tl)

    def rng(name: str) -> dict[str, float | None]:
        x = np.asarray(tl[name], dtype=float)[vis]
        if not x.size or np.all(np.isnan(x)):
            return {"min": None, "mean": None, "max": None}
        return {"min": float(np.nanmin(x)), "mean": float(np.nanmean(x)), "max": float(np.nanmax(x))}

    out: dict[str, Any] = {
        "scenario": tl.scenario.name,
        "rows": n,
        "step_s": float(tl.time_s[1] - tl.time_s[0]) if n > 1 else 0.0,
        "visible_pct": 100.0 * float(vis.mean()),
        "availability_pct": 100.0 * float(np.mean(np.nan_to_num(margin, nan=-np.inf) >= 0.0)),
    }
    for k in ("elevation_deg", "slant_range_km", "doppler_hz", "atmospheric_db", "esn0_db", "cnij_db", "margin_db"):
        out[k] = rng(k)
    out["jammers"] = {
        j.name: {"js_db_max": float(np.nanmax(np.where(j.active, j.js_db, np.nan))) if j.active.any() else None}
        for j in tl.jammers
    }
    out["notes"] = tl.notes
    return out


def summary_text(tl: Timeline) -> str:
    sm = summary(tl)
    lines = [f"timeline: {sm['rows']} rows, step {sm['step_s']:g} s; visible {sm['visible_pct']:.1f} %; "
             f"{tl.scenario.carrier.modcod} closes {sm['availability_pct']:.1f} % of the time"]
    for k, unit in (("elevation_deg", "deg"), ("esn0_db", "dB"), ("cnij_db", "dB"), ("margin_db", "dB")):
        v = sm[k]
        if v["min"] is not None:
            lines.append(f"  {k:<16} min {v['min']:8.2f}  mean {v['mean']:8.2f}  max {v['max']:8.2f}  {unit}")
    for note in sm["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
