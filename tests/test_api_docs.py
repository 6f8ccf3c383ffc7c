"""docs/api.md runs as written: its Python examples, in order, in one namespace, from a folder that holds the
repository's scenarios (as a notebook next to a checkout would)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_has_the_promised_examples() -> None:
    code = "\n".join(blocks())
    for call in ("api.load_scenario", "api.timeline", "flat_columns", "to_csv", "api.transmit", "api.apply_channel",
                 "api.receive", "api.run"):
        assert call in code, call


@pytest.mark.gnuradio
def test_api_doc_examples_run(gr, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "scenarios").symlink_to(DOC.parents[1] / "scenarios")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ns: dict = {}
        for i, code in enumerate(blocks()):
            exec(compile(code, f"docs/api.md block {i + 1}", "exec"), ns)  # noqa: S102 - the documented examples
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "arctic-horizon-jammer-acm" in out
    assert (tmp_path / "timeline.csv").read_text().startswith("time_utc,time_s,")
    assert ns["summary"]["status"] == "complete" and ns["summary"]["frames_total"] > 0
    assert (tmp_path / "runs" / "notebook" / "summary.json").is_file()
