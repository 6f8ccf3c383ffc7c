"""Honest frame counting in the in-process link (linksim.dvbs2.link): a frame is received correctly only when the
receiver accepts it AND its data equal what was sent. A receiver that accepts a frame with wrong data (an
undetected error) must show in every FER figure: run_link, run_acm_link and `linksim dvbs2 ber`.

The receiver is made to lie by flipping one payload bit of an accepted frame: the counts must not trust it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from linksim.cli import main
from linksim.dvbs2 import link
from linksim.dvbs2.acm import ModcodController
from linksim.dvbs2.rx import Receiver


def _lying_receiver(monkeypatch, corrupt: set[int]) -> list[int]:
    """Receivers whose accepted frames number `corrupt` (0, 1, ... in report order) get one payload bit flipped
    (ok stays True). Returns the list of frame numbers that were corrupted."""
    done: list[int] = []
    seen = [0]
    real = Receiver.process, Receiver.flush

    def tamper(reports):
        out = []
        for r in reports:
            if r.modcod != "DUMMY" and r.ok:
                k = seen[0]
                seen[0] += 1
                if k in corrupt:
                    b = bytearray(r.payload)
                    b[len(b) // 2] ^= 0x10
                    r = dataclasses.replace(r, payload=bytes(b))
                    done.append(k)
            out.append(r)
        return out

    monkeypatch.setattr(Receiver, "process", lambda self, x: tamper(real[0](self, x)))
    monkeypatch.setattr(Receiver, "flush", lambda self: tamper(real[1](self)))
    return done


def test_run_link_counts_an_accepted_frame_with_wrong_data_as_an_undetected_error(monkeypatch):
    clean = link.run_link("QPSK 1/2", 8.0, frames=4, sync="genie", frame="short", seed=3)
    assert (clean.frame_errors, clean.undetected_errors, clean.bit_errors) == (0, 0, 0)
    done = _lying_receiver(monkeypatch, {1})
    r = link.run_link("QPSK 1/2", 8.0, frames=4, sync="genie", frame="short", seed=3)
    assert done == [1]
    assert r.frame_errors == 1 and r.undetected_errors == 1 and r.missed == 0
    assert r.fer == pytest.approx(0.25) and r.bit_errors == 1
    # the frame's bits no longer count as decoded throughput (decode_mbps = good bits / receiver time)
    assert r.decode_mbps * r.rx_seconds == pytest.approx(0.75 * clean.decode_mbps * clean.rx_seconds)
    d = r.as_dict()
    assert d["undetected_errors"] == 1 and d["frame_errors"] == 1


def test_run_acm_link_counts_an_accepted_frame_with_wrong_data_as_failed(monkeypatch):
    def esn0(t):
        return np.full(np.shape(t), 12.0)

    def ctrl():
        return ModcodController("acm", margin_db=1.5, return_delay_s=0.05, frame="short")

    clean = link.run_acm_link(esn0, 1.0, ctrl(), symbol_rate_baud=50e3, frame="short", seed=2)
    assert clean and all(f.ok and not f.undetected for f in clean)
    done = _lying_receiver(monkeypatch, {2})
    frames = link.run_acm_link(esn0, 1.0, ctrl(), symbol_rate_baud=50e3, frame="short", seed=2)
    assert done == [2] and len(frames) == len(clean)
    bad = [i for i, f in enumerate(frames) if not f.ok]
    assert bad == [2] and frames[2].undetected and frames[2].info_bits == 0
    assert sum(f.info_bits for f in frames) == sum(f.info_bits for f in clean) - clean[2].info_bits


def test_dvbs2_ber_reports_undetected_errors(monkeypatch, capsys):
    _lying_receiver(monkeypatch, {0})
    rc = main(["dvbs2", "ber", "--modcod", "QPSK 1/2", "--esn0-db", "8", "--frames", "3", "--sync", "genie",
               "--frame", "short", "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["frames"] == 3 and d["frame_errors"] == 1 and d["undetected_errors"] == 1
    assert d["fer"] == pytest.approx(1 / 3)
