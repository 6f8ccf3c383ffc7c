"""GSE (ETSI TS 102 606-1): header fields, fragmentation across BBFRAMEs, CRC-32, padding, label types, the loss
model, and Wireshark's DVB-S2/GSE dissector (tshark, from the Debian packages) as an outside decoder."""

from __future__ import annotations

import shutil
import struct
import subprocess

import numpy as np
import pytest

from linksim.dvbs2.bbframe import BbHeader
from linksim.dvbs2.gse import (
    ETHERTYPE_IPV4,
    GseDeencapsulator,
    GseEncapsulator,
    crc32_mpeg2,
    protocol_of,
)
from linksim.errors import InputError


def ipv4_udp(payload: bytes, ident: int, src: bytes = b"\x0a\x4d\x00\x01", dst: bytes = b"\x0a\x4d\x00\x02") -> bytes:
    """A valid IPv4/UDP packet (header checksum set)."""
    tot = 20 + 8 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, ident & 0xFFFF, 0, 64, 17, 0, src, dst)
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    h = h[:10] + struct.pack("!H", ~s & 0xFFFF) + h[12:]
    return h + struct.pack("!HHHH", 5000, 6000, 8 + len(payload), 0) + payload


def packets(sizes: list[int], seed: int = 1) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [ipv4_udp(rng.integers(0, 256, n, dtype=np.uint8).tobytes(), i) for i, n in enumerate(sizes)]


def walk(field: bytes) -> list[tuple]:
    """(S, E, LT, GSE Length) of each GSE packet in a data field, ('pad', n) for the padding."""
    pos, out = 0, []
    while pos + 2 <= len(field):
        h = int.from_bytes(field[pos : pos + 2], "big")
        if h >> 12 == 0:
            out.append(("pad", len(field) - pos))
            break
        out.append((h >> 15, (h >> 14) & 1, (h >> 12) & 3, h & 0xFFF))
        pos += 2 + (h & 0xFFF)
    return out


# ------------------------------------------------------------------------------------------------ the standard


def test_crc32_is_the_mpeg2_crc():
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # CRC-32/MPEG-2 check value
    assert crc32_mpeg2(b"") == 0xFFFFFFFF


def test_complete_packet_fields_label_types_and_reuse():
    pk = packets([40, 60, 80])
    e = GseEncapsulator(label=b"\x01\x02\x03")
    for p in pk:
        e.push(p)
    field, placed = e.data_field(1000)
    assert len(field) == 1000 and [p.ends for p in placed] == [True] * 3
    parts = walk(field)
    # first packet: S=E=1, LT=01 (3-byte label); the next two re-use it (LT=11); then padding
    assert [x[:3] for x in parts[:3]] == [(1, 1, 0b01), (1, 1, 0b11), (1, 1, 0b11)]
    assert parts[0][3] == 2 + 3 + len(pk[0])  # GSE Length: protocol type + label + PDU
    assert parts[1][3] == 2 + len(pk[1])
    assert parts[3] == ("pad", 1000 - sum(2 + x[3] for x in parts[:3]))
    assert field[2:4] == ETHERTYPE_IPV4.to_bytes(2, "big") and field[4:7] == b"\x01\x02\x03"
    d = GseDeencapsulator()
    got = d.data_field(field)
    assert [g.data for g in got] == pk and all(g.label == b"\x01\x02\x03" for g in got)
    for lab, lt in ((b"\xaa" * 6, 0b00), (b"", 0b10)):
        e = GseEncapsulator(label=lab, reuse_label=False)
        e.push(pk[0])
        f, _ = e.data_field(200)
        assert walk(f)[0][:3] == (1, 1, lt)
        assert GseDeencapsulator().data_field(f)[0].label == lab


def test_fragmentation_across_bbframes_total_length_and_crc():
    pk = packets([1400])
    e = GseEncapsulator(label=b"")
    e.push(pk[0], tag="p")
    fields = []
    while e.queued_packets:
        f, placed = e.data_field(400)
        fields.append((f, placed))
    assert len(fields) == 4
    first, mid, last = walk(fields[0][0]), walk(fields[1][0]), walk(fields[3][0])
    assert first[0][:3] == (1, 0, 0b10) and first[0][3] == 400 - 2  # first fragment fills the field
    assert mid[0][:3] == (0, 0, 0b11) and last[0][:3] == (0, 1, 0b11)  # later fragments: LT = 11
    f0 = fields[0][0]
    frag_id, total = f0[2], int.from_bytes(f0[3:5], "big")
    assert total == 2 + 0 + len(pk[0])  # Total Length: protocol type + label + PDU (no CRC)
    assert all(f[2] == frag_id for f, _ in fields[1:])
    # the CRC-32 closes the last fragment and covers Total Length, Protocol Type, Label and PDU
    n_last = last[0][3]
    crc = fields[3][0][2 + n_last - 4 : 2 + n_last]
    assert int.from_bytes(crc, "big") == crc32_mpeg2(f0[3:5] + f0[5:7] + pk[0])
    assert [pl[0].ends for _, pl in fields] == [False, False, False, True]
    d = GseDeencapsulator()
    out = [p for f, _ in fields for p in d.data_field(f)]
    assert [p.data for p in out] == pk and d.stats.fragmented == 1


def test_a_corrupted_or_missing_fragment_loses_the_pdu_and_only_it():
    pk = packets([1000, 30, 1000])
    e = GseEncapsulator()
    for p in pk:
        e.push(p)
    fields = []
    while e.queued_packets:
        fields.append(e.data_field(300)[0])
    bad = bytearray(fields[1])
    bad[50] ^= 0x40  # a bit error inside a middle fragment: the CRC-32 catches it
    d = GseDeencapsulator()
    out = [p.data for f in [fields[0], bytes(bad), *fields[2:]] for p in d.data_field(f)]
    assert out == pk[1:] and d.stats.crc_errors == 1
    # a lost frame (reported lost by the receiver) drops the partial PDU; the next fragments are orphans
    d = GseDeencapsulator()
    out = []
    for i, f in enumerate(fields):
        if i == 1:
            d.frame_lost()
            continue
        out += [p.data for p in d.data_field(f)]
    assert out == pk[1:] and d.stats.dropped_partial == 1 and d.stats.orphans >= 1
    # an undetected lost frame: the Total Length no longer matches
    d = GseDeencapsulator()
    out = [p.data for i, f in enumerate(fields) if i != 1 for p in d.data_field(f)]
    assert pk[0] not in out and pk[2] in out and d.stats.length_errors + d.stats.crc_errors == 1


def test_loss_model_a_lost_frame_loses_what_it_carries():
    """Every PDU that had any byte in a lost data field is lost; every other PDU arrives (the model of docs/ip.md)."""
    rng = np.random.default_rng(5)
    pk = packets(list(rng.integers(20, 1500, 300)), seed=3)
    e = GseEncapsulator(label=b"\x00\x00\x07")
    for i, p in enumerate(pk):
        e.push(p, tag=i)
    d = GseDeencapsulator()
    lost_frames = set(rng.choice(200, 25, replace=False).tolist())
    touched: set[int] = set()
    got = []
    k = 0
    while e.queued_packets:
        f, placed = e.data_field(int(rng.choice([384, 1000, 2000])))
        if k in lost_frames:
            touched |= {pl.tag for pl in placed}
            d.frame_lost()
        else:
            got += d.data_field(f)
        k += 1
    expect = [p for i, p in enumerate(pk) if i not in touched]
    assert [g.data for g in got] == expect and len(touched) > 25


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="label"):
        GseEncapsulator(label=b"\x01\x02")
    with pytest.raises(InputError, match="IPv4 or IPv6"):
        protocol_of(b"\x10abc")
    with pytest.raises(InputError, match="at most"):
        GseEncapsulator().push(b"\x45" * 70000)


def test_through_the_dvbs2_transmitter_and_receiver():
    """GSE data fields in a generic continuous stream: TX (BBHEADER TS/GS = 01) -> AWGN -> RX -> de-encapsulation."""
    from linksim.dvbs2.bbframe import TS_GS_CODES
    from linksim.dvbs2.rx import Receiver
    from linksim.dvbs2.tx import Transmitter

    pk = packets([1200, 64, 900, 1400, 40, 500, 1300], seed=9)
    e = GseEncapsulator(label=b"\x00\x00\x01")
    for p in pk:
        e.push(p)
    tx = Transmitter(frame="short", pilots=True, sps=2, stream="generic", ccm=False)
    syms = []
    for m in ["QPSK 1/2", "8PSK 3/4", "QPSK 1/4", "QPSK 2/3"]:
        field, _ = e.data_field(tx.frame_capacity_bytes(m))
        syms.append(tx.frame_symbols(m, field))
        assert tx.last_header.ts_gs == TS_GS_CODES["generic"] and tx.last_header.upl_bits == 0
    x = np.concatenate([tx.shape(np.concatenate(syms)), tx.flush()])
    rng = np.random.default_rng(1)
    x = (x + 0.05 * (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size))).astype(np.complex64)
    rx = Receiver()
    reps = rx.process(x) + rx.flush()
    assert [r.ok for r in reps] == [True] * 4
    d = GseDeencapsulator()
    got = [p.data for r in reps for p in d.data_field(r.payload)]
    assert got == pk[: len(got)] and len(got) >= 5


# ------------------------------------------------------------------------------------------------ Wireshark


def _pcap(records: list[bytes]) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)  # LINKTYPE_RAW (IPv4)
    for i, r in enumerate(records):
        out += struct.pack("<IIII", i, 0, len(r), len(r)) + r
    return out


def _bbframes_pcap(fields: list[bytes]) -> bytes:
    """Each data field behind a generic-continuous BBHEADER, in UDP as Wireshark's "DVB-S2 over UDP" heuristic
    reads it. Mode adaptation L.4 (ACM byte: short frame, pilots, QPSK 1/2; CNI; frame number): the heuristic tries
    L.4 last, so a chance CRC-8 match at another offset cannot take the frame."""
    recs = []
    for i, f in enumerate(fields):
        mode = bytes([0x40 | 0x20 | 4, 0, i & 0xFF])
        hdr = BbHeader(0b01, True, False, False, False, 0b10, 0, 0, 8 * len(f), 0, 0).to_bytes()
        recs.append(ipv4_udp(mode + hdr + f, 40000 + i, src=b"\x7f\x00\x00\x01", dst=b"\x7f\x00\x00\x01"))
    return _pcap(recs)


def _tshark(path, full: bool, fields: list[str]) -> list[list[str]]:
    cmd = ["tshark", "-r", str(path), "--enable-heuristic", "dvb_s2_udp", "-o", "dvb-s2_modeadapt.decode_df:TRUE",
           "-o", f"dvb-s2_modeadapt.full_decode:{'TRUE' if full else 'FALSE'}", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    return [line.split("\t") for line in res.stdout.splitlines()]


@pytest.fixture(scope="module")
def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        pytest.fail("tshark is needed (scripts/setup.sh installs it with the system packages)")
    return path


def test_wireshark_reads_the_gse_headers_and_reassembles_the_fragments(tshark, tmp_path):
    rng = np.random.default_rng(2)
    pk = packets(list(rng.integers(20, 1480, 40)), seed=4)
    e = GseEncapsulator(label=b"\x01\x02\x03")
    for p in pk:
        e.push(p)
    fields = []
    while e.queued_packets:
        fields.append(e.data_field(int(rng.choice([384, 600, 1500])))[0])
    cap = tmp_path / "gse.pcap"
    cap.write_bytes(_bbframes_pcap(fields))
    rows = _tshark(cap, False, ["dvb-s2_bb.crc.status", "dvb-s2_gse.hdr.start", "dvb-s2_gse.hdr.stop",
                                "dvb-s2_gse.hdr.labeltype", "dvb-s2_gse.totlength",
                                "dvb-s2_gse.reassembled.length", "dvb-s2_gse.padding"])
    assert len(rows) == len(fields)
    n_pdus = 0
    for row, f in zip(rows, fields, strict=True):
        assert row[0] == "1"  # BBHEADER CRC-8 good
        mine = [x for x in walk(f) if x[0] != "pad"]
        assert row[1].split(",") == [str(x[0]) for x in mine]
        assert row[2].split(",") == [str(x[1]) for x in mine]
        assert [int(v, 16) for v in row[3].split(",")] == [x[2] for x in mine]
        pad = walk(f)[-1]
        assert (row[6] or None) == (str(pad[1]) if pad[0] == "pad" else None)
        n_pdus += sum(1 for x in mine if x[1] == 1)
    assert n_pdus == len(pk)
    # every fragmented PDU reassembled by Wireshark, in order: reassembled length = Total Length + 2
    d = GseDeencapsulator()
    ours = []
    for f in fields:
        before = d.stats.fragmented
        got = d.data_field(f)
        if d.stats.fragmented > before:  # a last fragment always opens its data field
            ours.append(2 + 2 + len(got[0].label) + len(got[0].data))
    reasm = [int(v) for r in rows for v in r[5].split(",") if v]
    assert reasm == ours and len(ours) >= 10


def test_wireshark_decodes_the_ip_packets_inside(tshark, tmp_path):
    """Full decode: each IPv4 packet Wireshark finds inside the GSE stream (whole or reassembled) has our
    identification, length and a good header checksum."""
    pk = packets([1300, 80, 1450, 200, 40], seed=6)
    fields = []
    for p in pk:  # one PDU at a time, so each reassembled PDU closes its data field (Wireshark stops after it)
        e = GseEncapsulator(label=b"")
        e.push(p)
        while e.queued_packets:
            fields.append(e.data_field(500)[0])
    cap = tmp_path / "ip.pcap"
    cap.write_bytes(_bbframes_pcap(fields))
    rows = _tshark(cap, True, ["ip.id", "ip.len", "ip.checksum.status"])
    inner = [(int(i, 16), int(n), c) for r in rows
             for i, n, c in zip(r[0].split(","), r[1].split(","), r[2].split(","), strict=True)
             if int(i, 16) < 40000]
    assert inner == [(i, len(p), "2") for i, p in enumerate(pk)]
