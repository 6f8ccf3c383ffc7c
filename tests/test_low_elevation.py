"""Statistical mode below 5 deg elevation: ITU-R P.618-13 sections 2.4.2 (deep fading) and 2.4.3 (shallow fading)
in place of 2.4.1, as the time-series mode already does (linksim.propagation.scintillation.low_elevation_fade_db)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from linksim.budget.timeline import compute_timeline
from linksim.errors import ValidityWarning
from linksim.propagation import itu
from linksim.propagation.scintillation import low_elevation_fade_db
from linksim.scenario.model import list_shipped, load_scenario


def test_statistical_mode_uses_p618_low_elevation_below_5_deg():
    el = np.array([1.0, 2.0, 3.0, 4.0, 4.999, 5.0, 6.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        al = itu.atmospheric_losses(78.22, 15.65, 450.0, 20.2e9, el, 1.0, 1.2, 0.65, p_l_pct=3.0,
                                    water_fraction=0.5)
    nwet = itu.climate(78.22, 15.65).nwet_median
    low = el < 5.0
    want = low_elevation_fade_db(1.0, el[low], 20.2e9, 78.22, nwet, 1.2, 0.65, 450.0, 3.0, 0.5)
    assert al.scintillation_db[low] == pytest.approx(want, abs=1e-9)
    # joins section 2.4.1 at 5 deg (the shallow-fading law interpolates to the 2.4.1 fade there)
    assert al.scintillation_db[4] == pytest.approx(al.scintillation_db[5], abs=0.05)
    assert np.all(np.diff(al.scintillation_db) < 0)  # more fading the lower the path
    msgs = [str(w.message) for w in caught if issubclass(w.category, ValidityWarning)]
    assert len(msgs) == 1 and "2.4.2/2.4.3" in msgs[0] and "not implemented" not in msgs[0]


def test_low_elevation_runs_no_longer_say_not_implemented():
    s = load_scenario(next(p for p in list_shipped() if p.name == "arctic-horizon-jammer-acm.toml"))
    tl = compute_timeline(s, duration_s=60.0)
    assert tl["low_elevation"].all()
    assert not any("not implemented" in n for n in tl.notes)
    assert any("2.4.2/2.4.3" in n for n in tl.notes)
    # the budget's scintillation row at 2.6 deg, 1 %: P.618's low-elevation fade, more than 2.4.1 would give
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityWarning)
        s241 = itu.scintillation_db(78.22, 15.65, 20.2e9, tl["elevation_deg"][:1], 1.0, 1.2, 0.65)[0]
    assert tl["scintillation_db"][0] > s241 + 1.0
