"""linksim: a ground-segment SATCOM link simulator with hardware in the loop."""

__version__ = "0.1.0"
