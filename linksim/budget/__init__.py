"""Budget: a scenario becomes a Timeline, one row per time step (`timeline`: EIRP, G/T, C/N0, Es/N0, J/S per
jammer, C/(N+I+J), Doppler, delay, margin), with the in-band share of each interferer (`interference`), the
printed budget tables (`tables`) and the Timeline's figures (`plots`). The satellite and the receiver's losses:
amplifier curves (`transponder`), a MODCOD's reference signal (`waveform`), what an amplifier costs it
(`distortion`), the transponder's operating point, power robbing and C/IM (`payload`), interference from other
carriers (`neighbours`), the terminal's receive side (`terminal`), phase noise and fading (`impairments`) and what
the receiver measures and decodes (`prediction`).

Layer: may import scenario, propagation, geometry and the top-level helpers; never the channel or anything above.
"""
