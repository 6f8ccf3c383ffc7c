"""The IQ channel on the sample clock: gain, Doppler, delay, fading, phase noise, AWGN and jammer waveforms
(`core`, `delay`, `fading`, `phase_noise`, `noise`, `jammers`), amplifiers (`amplifier`) and the bent pipe's
stages (`transponder`), and the adapter that turns a budget Timeline into a Channel, or a link's stages, for a
stretch of scenario time (`from_budget`).

Layer: may import budget, scenario, propagation, geometry and the top-level helpers. Never the receiver, GNU Radio
blocks, runs, reports or campaigns.
"""
