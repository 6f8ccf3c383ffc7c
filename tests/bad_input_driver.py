"""Runs many `linksim` command lines in one process, for tests/test_bad_input.py (one interpreter start instead
of one per case: each costs about a second of imports).

    python tests/bad_input_driver.py < cases.json > results.json      (run in the directory the cases use)

cases.json: [{"id": ..., "argv": [...]}, ...]. Each case runs through linksim.cli.main exactly as `linksim ARGV`
would (argparse errors, the one-line error handler, exit codes), with stdout and stderr captured, and the working
directory is snapshotted before and after it (every regular file's size and SHA-256, every other entry's type),
so the test can check that an error left no file lost, changed or half-written. Before each case the driver
writes `CASE id` to its own stderr: if a case hangs, the test's timeout names it.
Output: one JSON object per case {"id", "rc", "stdout", "stderr", "seconds", "before", "after"}.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import stat
import sys
import time
import traceback

_HASHES: dict[tuple[int, int, int, int], str] = {}  # (inode, size, mtime_ns, ctime_ns) -> content hash


def snapshot(root: str = ".") -> dict[str, str]:
    """{relative path: "file SIZE SHA256" | "dir" | "fifo" | "link -> TARGET" | "other"} (FIFOs are never opened;
    a file whose inode, size, mtime and ctime are unchanged is not hashed again)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = f"link -> {os.readlink(p)}"
            elif stat.S_ISREG(st.st_mode):
                key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                if key not in _HASHES:
                    h = hashlib.sha256()
                    with open(p, "rb") as f:
                        while b := f.read(1 << 20):
                            h.update(b)
                    _HASHES[key] = h.hexdigest()[:16]
                out[rel] = f"file {st.st_size} {_HASHES[key]}"
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = "dir"
            elif stat.S_ISFIFO(st.st_mode):
                out[rel] = "fifo"
            else:
                out[rel] = "other"
    return out


def run_case(argv: list[str]) -> tuple[int | str, str, str]:
    from linksim.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc: int | str = main(argv)
        except SystemExit as e:  # argparse errors (and --help)
            rc = e.code if isinstance(e.code, int) else 1
        except BaseException:  # what the real CLI would print as a traceback (exit code 1)
            traceback.print_exc(file=err)
            rc = 1
    return rc, out.getvalue(), err.getvalue()


def main() -> int:
    cases = json.load(sys.stdin)
    results = []
    for case in cases:
        sys.stderr.write(f"CASE {case['id']}\n")
        sys.stderr.flush()
        before = snapshot()
        t0 = time.monotonic()
        rc, out, err = run_case(case["argv"])
        results.append({"id": case["id"], "rc": rc, "stdout": out, "stderr": err,
                        "seconds": time.monotonic() - t0, "before": before, "after": snapshot()})
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    raise SystemExit(main())
