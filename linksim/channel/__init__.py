"""The IQ channel on the sample clock: gain, Doppler, delay, fading, phase noise, AWGN and jammer waveforms
(`core`, `delay`, `fading`, `phase_noise`, `noise`, `jammers`), and the adapter that turns a budget Timeline
into a Channel for a stretch of scenario time (`from_budget`).

Layer: may import budget, scenario, propagation, geometry and the top-level helpers. Never the receiver, GNU Radio
blocks, runs, reports or campaigns.
"""
