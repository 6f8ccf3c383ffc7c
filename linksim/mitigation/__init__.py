"""Mitigation: what the terminal does against a jammer before its receiver, on complex baseband samples.

`excision` (overlapping FFT blocks, bins above an adaptive per-frequency threshold removed or clipped, overlap-add),
`notch` (a bank of adaptive notches that lock onto tones and follow swept tones), `blanking` (pulses far above the
running power level zeroed, with an erasure mask that travels to the receiver's demapper), `chain` (the receiver's
settings for excision and blanking as one streaming object), `array` (sample-matrix-inversion combining of an
array's element streams: MVDR or power inversion with diagonal loading, and the adapted pattern's null depths).
Every processor is streaming and sample-aligned: what comes out of `process` (and `flush` at the end) is the
input's samples, in order, one for one.

Layer: may import channel, budget, scenario, propagation, geometry and the top-level helpers. Never the receiver,
GNU Radio blocks, runs, reports or campaigns.
"""
