"""Scenarios: the typed, validated description of one terminal's link (`model`), the closed schema every
scenario key is checked against (`schema`), and the DVB-S2 MODCOD table with its Table 13 thresholds (`modcods`).

Layer: above geometry and propagation (it imports geometry's closed forms); below everything that takes a Scenario.
"""
