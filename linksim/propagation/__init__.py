"""Propagation: ITU-R long-term statistics through the itur package (`itu`: gas, cloud, rain, scintillation,
wet antenna), synthesized weather time series (`weather`, P.1853-style), tropospheric and ionospheric
scintillation (`scintillation`), and antenna events such as a wet radome or snow (`antenna_events`).

Layer: models over numpy arrays. May import geometry and the top-level helpers; never a scenario, a budget or
anything above.
"""
