"""Hardware in the loop: transports and drivers for lab gear (attenuators, rotators, reference clocks), SDR
device profiles and the SDR factory (GNU Radio sources/sinks), IQ links between processes, the emulator's
endpoints (stock gr-zeromq or a device profile: `endpoints`), SigMF recording, and fakes.

Only `sdr`, `zmqlink` (its GNU Radio blocks) and `sigmf_io` (its blocks) need GNU Radio; the lab-gear
drivers need pyserial only.

Layer: above the GNU Radio blocks (the IQ links use their buffers); below run. Never imports run, report,
campaign or cli.
"""
