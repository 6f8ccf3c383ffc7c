"""GNU Radio blocks over linksim's numpy code (the TX, the channel, jammers, the receiver, and the hier blocks that
chain them, which the CLI and the .grc flowgraphs both use). Importing this package needs GNU Radio.

Layer: may import dvbs2, channel, budget, scenario and the helpers; never hw, run, report, campaign or cli.
"""
