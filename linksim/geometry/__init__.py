"""Geometry: where the satellite, the terminal and each jammer are (`orbit`: SGP4 and GEO on WGS84, look angles,
range, range-rate, delay, UTC parsing) and how the terminal's antenna sees them (`antenna`: gain, patterns,
off-axis angles, pointing loss).

Layer: the lowest stage; pure numpy functions over arrays. May import only the top-level helpers (errors, dbmath).
"""
