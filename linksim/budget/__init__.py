"""Budget: a scenario becomes a Timeline, one row per time step (`timeline`: EIRP, G/T, C/N0, Es/N0, J/S per
jammer, C/(N+I+J), Doppler, delay, margin), with the in-band share of each interferer (`interference`), what of
each reaches a spread or hopped carrier (`processing_gain`), the printed budget tables (`tables`) and the
Timeline's figures (`plots`).

Layer: may import scenario, propagation, geometry and the top-level helpers; never the channel or anything above.
"""
