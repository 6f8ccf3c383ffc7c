"""DVB-S2 (ETSI EN 302 307-1) transmitter, receiver and ACM, usable without GNU Radio."""
