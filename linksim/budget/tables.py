"""Human-readable budget tables: one instant laid out the way a link-budget spreadsheet reads, and a summary."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..dbmath import BOLTZMANN_DBW_K_HZ, lin_to_db
from ..scenario import modcods
from .terminal import peak_gain_dbi
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
    g_peak = peak_gain_dbi(s)
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
    if s.uplink is not None and _finite(r.get("uplink_flux_dbw_m2")):
        sec("uplink")
        if s.terminal.hpa is not None:
            from .payload import hpa_obo_db

            add("ground HPA output back-off (model)", -hpa_obo_db(s), "dB")
        add("flux density at the satellite", r["uplink_flux_dbw_m2"], "dBW/m2")
        if s.satellite.sfd_dbw_m2 is not None:
            add("saturation flux density (SFD)", s.satellite.sfd_dbw_m2, "dBW/m2")
        add("satellite G/T", s.satellite.g_over_t_dbk, "dB/K")
        add("C/N0 uplink", _plus(r["esn0_up_db"], float(lin_to_db(c.symbol_rate_baud))), "dBHz")
    sec("downlink")
    if _finite(r.get("sat_ibo_db")):
        add("transponder input back-off", r["sat_ibo_db"], "dB")
    if s.satellite.amplifier is not None or s.satellite.output_backoff_db:
        how = "from the amplifier model" if s.satellite.amplifier is not None else "as given"
        add(f"output back-off ({how})", -r["obo_db"], "dB")
    if s.satellite.carriers > 1:
        add(f"share of {s.satellite.carriers} carriers", -float(lin_to_db(s.satellite.carriers)), "dB")
    if _finite(r.get("obo_db")) and r["obo_db"]:
        add("satellite EIRP at saturation", s.satellite.eirp_dbw, "dBW")
    add("satellite EIRP (signal share)", r["eirp_dbw"], "dBW")
    add("free-space loss", -r["fspl_db"], "dB")
    if s.propagation.mode == "fixed":
        add("atmospheric loss (as given)", -_nz(r["atmospheric_db"]), "dB")
    else:
        add("gas (P.676)", -_nz(r["gas_db"]), "dB")
        add("cloud (P.840)", -_nz(r["cloud_db"]), "dB")
        add("rain (P.618)", -_nz(r["rain_db"]), "dB")
        add("scintillation and multipath (P.618 2.4.2/2.4.3)" if r["low_elevation"] else
            "tropospheric scintillation", -_nz(r["scintillation_db"]), "dB")
        if s.propagation.ionosphere is not None:
            add("ionospheric scintillation", -_nz(r["iono_scintillation_db"]), "dB")
        add("total atmospheric (P.618 2.5)", -_nz(r["atmospheric_db"]), "dB")
    add("pointing loss", -term.pointing_loss_db, "dB")
    if term.other_losses_db:
        add("other losses", -term.other_losses_db, "dB")
    if term.polarization_loss_db:
        add("polarisation loss", -term.polarization_loss_db, "dB")
    sec("terminal")
    add("antenna peak gain", g_peak, "dBi")
    if term.radome_loss_db:
        add("radome loss", -term.radome_loss_db, "dB")
    add("feed loss", -term.feed_loss_db, "dB")
    if s.events:
        add("antenna events (wet/snow)", -r["antenna_event_db"], "dB")
    published = term.g_over_t_dbk is not None or term.system_noise_temp_k is not None
    if not published:
        add("sky noise temperature", r["sky_temp_k"], "K")
        add("LNA noise temperature", term.lna_temp_k, "K")
    add("system noise temperature" + (" (as given)" if published else ""), r["system_temp_k"], "K")
    add("G/T" + (" (as given)" if term.g_over_t_dbk is not None else ""), r["gt_dbk"], "dB/K")
    add("Boltzmann constant", BOLTZMANN_DBW_K_HZ, "dBW/K/Hz")
    sec("carrier")
    add("C/N0 downlink", r["cn0_dbhz"], "dBHz")
    add("symbol rate", float(lin_to_db(c.symbol_rate_baud)), "dBHz")
    add("Es/N0 downlink", r["esn0_down_db"], "dB")
    if s.uplink is not None:
        add("Es/N0 uplink", r["esn0_up_db"], "dB")
    add("Es/N0 end to end (thermal)", r["esn0_db"], "dB")
    for j in r["jammers"]:
        where = "sat input" if j["target"] == "uplink" else f"{_f(j['off_axis_deg'], '{:.1f}').strip()} deg off axis"
        add(f"J/S {j['name']} ({j['type']}, {where})", j["js_db"], "dB")
    for key, label in (("ci_asi_db", "C/I adjacent satellites"), ("xpd_rain_db", "XPD rain and ice (P.618 4.1)"),
                       ("ci_xpol_db", "C/I cross-polar"), ("cim_db", "C/IM (amplifier, multi-carrier)"),
                       ):
        if _finite(r.get(key)) and (key != "xpd_rain_db" or s.satellite.cross_pol_carrier_db is not None):
            add(label, r[key], "dB")
    for it in s.interference:  # published allocations, each in the publication's unit
        if it.c_over_i0_dbhz is not None:
            add(f"C/I0 {it.name} (as given)", it.c_over_i0_dbhz, "dBHz")
        elif it.c_over_i_db is not None:
            add(f"C/I {it.name} (as given)", it.c_over_i_db, "dB")
        else:
            add(f"{it.name} allowance (as given)", -it.degradation_db, "dB")
    impl = [(k, lab) for k, lab in (("amp_loss_db", "amplifier distortion (as measured)"),
                                    ("phase_noise_loss_db", "phase noise after carrier tracking"),
                                    ("fading_loss_db", "fast fading, mean"))
            if _finite(r.get(k)) and abs(r[k]) > 1e-9]
    if impl:
        add("C/(N+I+J) link", r["cnij_link_db"], "dB")
        for k, lab in impl:
            add(lab, -r[k], "dB")
        add("C/(N+I+J) at the receiver", r["cnij_db"], "dB")
        add("Es/N0 for decoding", r["esn0_decode_db"], "dB")
    else:
        add("C/(N+I+J)", r["cnij_db"], "dB")
    add("C/(N0+I0+J0) end to end", _plus(r["cnij_db"], float(lin_to_db(c.symbol_rate_baud))), "dBHz")
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


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def _plus(a: float | None, b: float) -> float | None:
    return None if a is None else a + b


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
