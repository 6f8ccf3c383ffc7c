"""Reports: a run directory read back and checked (`data`), its figures (`plots`), the gap between measured and
predicted goodput explained term by term (`gap`), and the self-contained report.html (`html`).

Layer: reads run directories (their file format, not the run code). May import dvbs2 parameters, scenario,
geometry and the top-level helpers; a run calls it to finish its directory, so it never imports run or campaign.
"""
