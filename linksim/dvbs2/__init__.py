"""DVB-S2 (ETSI EN 302 307-1) transmitter, receiver (its frames decoded on worker threads: `decode_pool`) and ACM,
with the DVB-S2X VL-SNR MODCODs (EN 302 307-2: vlsnr.py, vlsnr_sync.py), usable without GNU Radio; direct-sequence
spreading (`spreading`) and frequency hopping (`hopping`) of the carrier, and the TX/RX that wrap them around DVB-S2
(`waveform`).

Layer: numpy/numba code; may import scenario (the MODCOD table, the carrier's keys), budget (a tone's share through
the matched filter), channel (jammers in the in-process link) and the top-level helpers, never GNU Radio blocks,
runs or anything above.
"""
