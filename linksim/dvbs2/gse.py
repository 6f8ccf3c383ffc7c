"""Generic Stream Encapsulation (ETSI TS 102 606-1) of network-layer packets into DVB-S2 BBFRAME data fields.

A BBFRAME of a generic continuous stream (BBHEADER TS/GS = 01, UPL = 0) carries GSE packets back to back from the
start of its data field; GSE packets never cross a data field's end: a PDU that does not fit is cut into fragments
that travel in this and the following data fields. What is left of a data field is padding: its first four bits are
0 (S = E = 0, LT = 00) and the receiver ignores the rest of the field.

GSE packet (all fields big-endian):
    S (1 bit) E (1) LT (2) GSE Length (12)      GSE Length = bytes after the GSE Length field (<= 4095)
    Frag ID (8)                                  when S = 0 or E = 0 (a fragment)
    Total Length (16)                            first fragment only (S = 1, E = 0)
    Protocol Type (16)                           when S = 1 (0x0800 IPv4, 0x86DD IPv6, ...)
    Label (6, 3 or 0 bytes)                      when S = 1: LT 00 six bytes, 01 three, 10 none (broadcast),
                                                 11 re-use the label of the previous GSE packet in this BBFRAME
    PDU bytes (a whole PDU, or a fragment of it)
    CRC-32 (32)                                  last fragment only (S = 0, E = 1)
Subsequent fragments (S = 0) carry LT = 11. Total Length counts the Protocol Type, the Label and the PDU; the CRC-32
(MPEG-2: polynomial 0x04C11DB7, register 0xFFFFFFFF, no reflection, no final XOR) covers Total Length, Protocol
Type, Label and PDU, and is kept whole in the last fragment.

Loss model (what the tests and docs/ip.md rely on): a lost BBFRAME loses every GSE packet in it; a PDU whose
fragments span several BBFRAMEs is lost if any of them is (the receiver drops a partial PDU when a frame is
reported lost, when a new first fragment reuses its Frag ID, or when the Total Length or CRC-32 do not match).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
MAX_GSE_LENGTH = 0xFFF  # the 12-bit GSE Length field
MAX_TOTAL_LENGTH = 0xFFFF
LABEL_BYTES = {0b00: 6, 0b01: 3, 0b10: 0, 0b11: 0}
LT_FOR_LABEL = {6: 0b00, 3: 0b01, 0: 0b10}
LT_REUSE = 0b11
CRC_BYTES = 4
MIN_FIRST_FRAGMENT_DATA = 8  # start a fragment only if at least this many PDU bytes fit; else pad the field


def _crc32_table() -> np.ndarray:
    tab = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if c & 0x80000000 else (c << 1) & 0xFFFFFFFF
        tab[i] = c
    return tab


_CRC_TABLE = [int(v) for v in _crc32_table()]


def crc32_mpeg2(data: bytes, crc: int = 0xFFFFFFFF) -> int:
    """CRC-32/MPEG-2 (the DVB CRC of EN 300 468 annex A, used by GSE): check value 0x0376E6E7 for b"123456789"."""
    tab = _CRC_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ tab[((crc >> 24) ^ b) & 0xFF]
    return crc


def protocol_of(packet: bytes) -> int:
    """The GSE Protocol Type (an EtherType) of an IP packet, from its version nibble."""
    v = packet[0] >> 4 if packet else 0
    if v == 4:
        return ETHERTYPE_IPV4
    if v == 6:
        return ETHERTYPE_IPV6
    raise InputError(f"not an IPv4 or IPv6 packet (version nibble {v})")


@dataclass(frozen=True)
class Pdu:
    """A network-layer packet as GSE carries it: its bytes, Protocol Type and label (0, 3 or 6 bytes)."""

    data: bytes
    protocol_type: int
    label: bytes = b""


@dataclass
class _Pending:
    pdu: Pdu
    tag: object  # whatever the caller attached (an id for loss accounting)
    sent: int = 0  # bytes of `body` already sent
    frag_id: int = -1
    body: bytes = b""  # PDU bytes (and the CRC once fragmented)


@dataclass
class Placement:
    """Where one PDU went: the tag given to push() and whether this data field ends it (complete or last fragment)."""

    tag: object
    ends: bool


class GseEncapsulator:
    """Cuts queued PDUs into BBFRAME data fields.

    label: the label every PDU gets unless push() names one (b"" broadcast, 3 or 6 bytes); reuse_label: write
    LT = 11 when a PDU's label equals the previous one in the same data field (never in a field's first packet).
    """

    def __init__(self, label: bytes = b"", reuse_label: bool = True) -> None:
        if len(label) not in LT_FOR_LABEL:
            raise InputError(f"GSE label must be 0, 3 or 6 bytes, not {len(label)}")
        self.label = bytes(label)
        self.reuse_label = bool(reuse_label)
        self._queue: deque[_Pending] = deque()
        self._next_frag_id = 0
        self.queued_bytes = 0

    def push(self, data: bytes, protocol_type: int | None = None, label: bytes | None = None,
             tag: object = None) -> None:
        """Queue one PDU (an IP packet unless protocol_type says otherwise)."""
        lab = self.label if label is None else bytes(label)
        if len(lab) not in LT_FOR_LABEL:
            raise InputError(f"GSE label must be 0, 3 or 6 bytes, not {len(lab)}")
        proto = protocol_of(data) if protocol_type is None else int(protocol_type)
        if not 0x0600 <= proto <= 0xFFFF:
            raise InputError(f"GSE protocol type {proto:#06x}: this encapsulator carries EtherTypes (>= 0x0600) only")
        if len(data) + 2 + len(lab) > MAX_TOTAL_LENGTH:
            raise InputError(f"a GSE PDU holds at most {MAX_TOTAL_LENGTH - 2 - len(lab)} bytes, not {len(data)}")
        self._queue.append(_Pending(Pdu(bytes(data), proto, lab), tag, body=bytes(data)))
        self.queued_bytes += len(data)

    @property
    def queued_packets(self) -> int:
        return len(self._queue)

    def clear(self) -> None:
        self._queue.clear()
        self.queued_bytes = 0

    def data_field(self, capacity: int) -> tuple[bytes, list[Placement]]:
        """One data field of exactly `capacity` bytes (GSE packets, then padding) and where each PDU went."""
        out = bytearray()
        placed: list[Placement] = []
        prev_label: bytes | None = None
        while self._queue:
            room = capacity - len(out)
            p = self._queue[0]
            if p.frag_id >= 0:  # a PDU already fragmented: next fragment (S = 0, LT = 11)
                left = len(p.body) - p.sent
                head = 3  # S/E/LT/length + Frag ID
                if room < head + 1:
                    break
                take = min(left, room - head, MAX_GSE_LENGTH - 1)
                if take < left and left - take < CRC_BYTES:  # keep the CRC-32 whole in the last fragment
                    take = left - CRC_BYTES
                if take <= 0:
                    break
                last = take == left
                out += _fixed(False, last, LT_REUSE, 1 + take) + bytes([p.frag_id])
                out += p.body[p.sent : p.sent + take]
                p.sent += take
                prev_label = None
                if last:
                    self._pop()
                placed.append(Placement(p.tag, last))
                continue
            lab = p.pdu.label
            reuse = self.reuse_label and prev_label is not None and prev_label == lab and len(lab) > 0
            lt = LT_REUSE if reuse else LT_FOR_LABEL[len(lab)]
            lab_out = b"" if reuse else lab
            whole = 2 + 2 + len(lab_out) + len(p.body)  # fixed header, protocol type, label, PDU
            if whole <= room and whole - 2 <= MAX_GSE_LENGTH:
                out += _fixed(True, True, lt, whole - 2) + p.pdu.protocol_type.to_bytes(2, "big") + lab_out + p.body
                self._pop()
                placed.append(Placement(p.tag, True))
                prev_label = lab
                continue
            # first fragment: S = 1, E = 0, with Frag ID and Total Length (and its label written out, never re-used,
            # so Total Length counts what is on the wire); the CRC-32 goes at the end of the PDU
            lt, lab_out = LT_FOR_LABEL[len(lab)], lab
            head = 2 + 1 + 2 + 2 + len(lab_out)
            take = min(room - head, MAX_GSE_LENGTH - (head - 2), len(p.body) - 1)
            if take < MIN_FIRST_FRAGMENT_DATA:
                break
            total = 2 + len(lab) + len(p.body)
            crc = crc32_mpeg2(total.to_bytes(2, "big") + p.pdu.protocol_type.to_bytes(2, "big") + lab + p.body)
            p.frag_id = self._new_frag_id()
            p.body = p.body + crc.to_bytes(4, "big")
            out += _fixed(True, False, lt, head - 2 + take) + bytes([p.frag_id]) + total.to_bytes(2, "big")
            out += p.pdu.protocol_type.to_bytes(2, "big") + lab_out + p.body[:take]
            p.sent = take
            placed.append(Placement(p.tag, False))
            prev_label = lab
            break  # the field is full
        if len(out) > capacity:  # pragma: no cover - guarded above
            raise AssertionError("GSE data field overflow")
        out += bytes(capacity - len(out))  # padding: first four bits 0
        return bytes(out), placed

    def _pop(self) -> None:
        p = self._queue.popleft()
        self.queued_bytes -= len(p.pdu.data)

    def _new_frag_id(self) -> int:
        busy = {p.frag_id for p in self._queue if p.frag_id >= 0}
        for _ in range(256):
            fid = self._next_frag_id
            self._next_frag_id = (self._next_frag_id + 1) & 0xFF
            if fid not in busy:
                return fid
        raise AssertionError("no free GSE Frag ID")  # pragma: no cover - at most one PDU is in fragments


def _fixed(start: bool, end: bool, lt: int, length: int) -> bytes:
    if not 0 < length <= MAX_GSE_LENGTH:
        raise AssertionError(f"GSE Length {length}")  # pragma: no cover
    return ((int(start) << 15) | (int(end) << 14) | (lt << 12) | length).to_bytes(2, "big")


@dataclass
class GseStats:
    pdus: int = 0  # PDUs delivered
    fragmented: int = 0  # of them, reassembled from fragments
    crc_errors: int = 0
    length_errors: int = 0  # reassembled length differs from Total Length
    orphans: int = 0  # fragments with no first fragment (lost earlier)
    dropped_partial: int = 0  # partial PDUs thrown away (frame lost, Frag ID reused)
    bad_packets: int = 0  # malformed GSE packets (the rest of that field is skipped)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Reassembly:
    total_length: int
    protocol_type: int
    label: bytes
    buf: bytearray = field(default_factory=bytearray)


class GseDeencapsulator:
    """BBFRAME data fields -> PDUs, reassembling fragments per Frag ID and checking their CRC-32."""

    def __init__(self) -> None:
        self._partial: dict[int, _Reassembly] = {}
        self.stats = GseStats()

    def frame_lost(self) -> None:
        """The receiver lost a BBFRAME: any PDU being reassembled has lost a fragment."""
        self.stats.dropped_partial += len(self._partial)
        self._partial.clear()

    def data_field(self, data: bytes) -> list[Pdu]:
        """The PDUs completed by one data field (in order)."""
        out: list[Pdu] = []
        pos = 0
        n = len(data)
        last_label = b""
        while pos + 2 <= n:
            hdr = int.from_bytes(data[pos : pos + 2], "big")
            s, e, lt, length = hdr >> 15, (hdr >> 14) & 1, (hdr >> 12) & 3, hdr & 0xFFF
            if not s and not e and lt == 0:
                break  # padding: the rest of the field
            end = pos + 2 + length
            if end > n or length == 0:
                self.stats.bad_packets += 1
                break
            body = data[pos + 2 : end]
            pos = end
            if s:
                q = 0
                frag_id = total = -1
                if not e:
                    frag_id, total, q = body[0], int.from_bytes(body[1:3], "big"), 3
                proto = int.from_bytes(body[q : q + 2], "big")
                q += 2
                if lt == LT_REUSE:
                    label = last_label
                else:
                    label = bytes(body[q : q + LABEL_BYTES[lt]])
                    q += LABEL_BYTES[lt]
                last_label = label
                if e:
                    out.append(Pdu(bytes(body[q:]), proto, label))
                    self.stats.pdus += 1
                else:
                    if frag_id in self._partial:
                        self.stats.dropped_partial += 1
                    r = _Reassembly(total, proto, label)
                    r.buf += body[q:]
                    self._partial[frag_id] = r
                continue
            frag_id = body[0]
            r = self._partial.get(frag_id)
            if r is None:
                self.stats.orphans += 1
                continue
            r.buf += body[1:]
            if not e:
                continue
            del self._partial[frag_id]
            pdu_len = len(r.buf) - CRC_BYTES
            if pdu_len < 0 or r.total_length != 2 + len(r.label) + pdu_len:
                self.stats.length_errors += 1
                continue
            pdu = bytes(r.buf[:pdu_len])
            crc = crc32_mpeg2(r.total_length.to_bytes(2, "big") + r.protocol_type.to_bytes(2, "big") + r.label + pdu)
            if crc != int.from_bytes(r.buf[pdu_len:], "big"):
                self.stats.crc_errors += 1
                continue
            out.append(Pdu(pdu, r.protocol_type, r.label))
            self.stats.pdus += 1
            self.stats.fragmented += 1
        return out


__all__ = ["ETHERTYPE_IPV4", "ETHERTYPE_IPV6", "GseDeencapsulator", "GseEncapsulator", "GseStats", "Pdu",
           "Placement", "crc32_mpeg2", "protocol_of"]
