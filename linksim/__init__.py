"""linksim: a ground-segment SATCOM link simulator with hardware in the loop."""

import os as _os

# One BLAS thread unless the user says otherwise (set before numpy loads its BLAS, which is why it is here). The
# receiver's matrix products are small (PLS decoding: 25 x 90 by 90 x 128): a second BLAS thread only spins,
# doubling their CPU time for the same wall time and taking the core the other flowgraph blocks need (the demo
# run's real-time factor on 2 cores is 0.85 with one BLAS thread against 0.71 to 0.74 without). Parallel work in
# linksim is done with processes (campaigns) and GNU Radio's block threads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
