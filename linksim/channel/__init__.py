"""The IQ channel on the sample clock: gain, Doppler, delay, fading, phase noise, AWGN and jammer waveforms
(`core`, `delay`, `fading`, `phase_noise`, `noise`, `jammers`), amplifiers (`amplifier`) and the bent pipe's
stages (`transponder`), computed on several cores (`parallel`), streamed from a source to a sink with reading,
computing and writing overlapping (`stream`), the adapter that turns a budget Timeline into a Channel, or a link's
stages, for a stretch of scenario time (`from_budget`), and the scenario's channel on an external signal's sample
clock for the emulator, with the delay and Doppler it realised measured on the streams (`emulation`).

Layer: may import budget, scenario, propagation, geometry and the top-level helpers. Never the receiver, GNU Radio
blocks, runs, reports or campaigns.
"""
