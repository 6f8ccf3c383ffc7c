"""Campaigns: a spec of many runs (`spec`: grids and lists of dotted scenario keys), their results in one SQLite
file (`db`, resumable), the runner on a local process pool or Dask (`runner`), and the campaign figures (`plots`).

Layer: the top of the data path below the CLI; may import any stage. Nothing below imports it.
"""
