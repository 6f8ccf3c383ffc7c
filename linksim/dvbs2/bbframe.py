"""DVB-S2 mode and stream adaptation (ETSI EN 302 307-1 clauses 5.1 and 5.2): BBHEADER, CRC-8, BBFRAME.

A BBFRAME is K_bch bits: an 80-bit BBHEADER, a data field of DFL bits taken from the input stream,
zero padding up to K_bch, then base-band scrambling of all K_bch bits (`scrambling.bb_scramble`).

Input streams (single input stream, normal mode):
- "ts": MPEG-TS, 188-byte packets starting with 0x47. UPL = 1504, SYNC = 0x47; the sync byte of every
  packet is replaced by the CRC-8 of the previous packet's 187 other bytes (the first packet's by 0, as
  gr-dtv does); SYNCD is the distance in bits from the start of the data field to the first packet start
  (65535 if none starts in it, which only happens in short padded frames).
- "generic": a generic continuous stream (TS/GS = 01): UPL = 0, SYNC = 0, SYNCD = 0, bytes copied as
  they come.

The BBHEADER fields follow gr-dtv's `dvb_bbheader_bb` (3.10): SIS, ISSYI and NPD off, MATYPE-2 = 0,
CCM flag set unless the caller asks for ACM/VCM signalling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..errors import InputError

TS_PACKET_BYTES = 188
TS_SYNC = 0x47
BBHEADER_BITS = 80
SYNCD_NONE = 0xFFFF  # SYNCD when no user packet starts in the data field
ROLLOFF_CODES = {0.35: 0b00, 0.25: 0b01, 0.20: 0b10}
TS_GS_CODES = {"ts": 0b11, "generic": 0b01}


def _crc8_table() -> np.ndarray:
    """CRC-8 with generator x^8 + x^7 + x^6 + x^4 + x^2 + 1 (0xD5), MSB first, register starting at 0."""
    tab = np.zeros(256, dtype=np.uint8)
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = ((crc << 1) ^ 0xD5) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        tab[i] = crc
    return tab


CRC8_TABLE = _crc8_table()


@numba.njit(cache=True, nogil=True)
def _crc8_rows(data, tab):  # pragma: no cover - compiled
    out = np.zeros(data.shape[0], dtype=np.uint8)
    for r in range(data.shape[0]):
        crc = np.uint8(0)
        for b in data[r]:
            crc = tab[b ^ crc]
        out[r] = crc
    return out


def crc8(data: bytes | np.ndarray) -> int:
    """CRC-8 (0xD5) of a byte string."""
    arr = np.frombuffer(bytes(data), dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    return int(_crc8_rows(np.ascontiguousarray(arr, dtype=np.uint8).reshape(1, -1), CRC8_TABLE)[0])


def crc8_rows(data: np.ndarray) -> np.ndarray:
    """CRC-8 of each row of a 2-D uint8 array."""
    return _crc8_rows(np.ascontiguousarray(data, dtype=np.uint8), CRC8_TABLE)


@dataclass(frozen=True)
class BbHeader:
    """The fields of a BBHEADER (units: UPL, DFL, SYNCD in bits)."""

    ts_gs: int  # 0b11 transport, 0b01 generic continuous, 0b00 generic packetized
    sis: bool  # single input stream
    ccm: bool  # constant coding and modulation (False: ACM/VCM)
    issyi: bool
    npd: bool
    rolloff_code: int  # 00 0.35, 01 0.25, 10 0.20
    isi: int
    upl_bits: int
    dfl_bits: int
    sync: int
    syncd_bits: int
    crc_ok: bool = True

    @property
    def rolloff(self) -> float | None:
        return {v: k for k, v in ROLLOFF_CODES.items()}.get(self.rolloff_code)

    def to_bytes(self) -> bytes:
        matype1 = (
            (self.ts_gs << 6)
            | (int(self.sis) << 5)
            | (int(self.ccm) << 4)
            | (int(self.issyi) << 3)
            | (int(self.npd) << 2)
            | self.rolloff_code
        )
        head = bytes([matype1, self.isi & 0xFF]) + self.upl_bits.to_bytes(2, "big") + self.dfl_bits.to_bytes(2, "big")
        head += bytes([self.sync & 0xFF]) + self.syncd_bits.to_bytes(2, "big")
        return head + bytes([crc8(head)])

    def to_bits(self) -> np.ndarray:
        return np.unpackbits(np.frombuffer(self.to_bytes(), dtype=np.uint8))


def parse_bbheader(bits: np.ndarray) -> BbHeader:
    """Read a (descrambled) BBHEADER from its first 80 bits; `crc_ok` tells whether its CRC-8 matches."""
    b = np.packbits(np.asarray(bits[:BBHEADER_BITS], dtype=np.uint8)).tobytes()
    if len(b) != 10:
        raise InputError("a BBHEADER needs 80 bits")
    m = b[0]
    return BbHeader(
        ts_gs=m >> 6,
        sis=bool(m & 0x20),
        ccm=bool(m & 0x10),
        issyi=bool(m & 0x08),
        npd=bool(m & 0x04),
        rolloff_code=m & 0x03,
        isi=b[1],
        upl_bits=int.from_bytes(b[2:4], "big"),
        dfl_bits=int.from_bytes(b[4:6], "big"),
        sync=b[6],
        syncd_bits=int.from_bytes(b[7:9], "big"),
        crc_ok=crc8(b[:9]) == b[9],
    )


def rolloff_code(rolloff: float) -> int:
    for k, v in ROLLOFF_CODES.items():
        if abs(rolloff - k) < 1e-9:
            return v
    raise InputError(f"roll-off must be 0.35, 0.25 or 0.20, not {rolloff}")


class StreamAdapter:
    """Cuts an input byte stream into BBFRAMEs (unscrambled), keeping packet alignment across frames.

    stream: "ts" (MPEG-TS packets, pushed in whole packets) or "generic" (any bytes). The stream is cut at bit
    granularity: a data field need not hold whole bytes (the DVB-S2X medium frames have K_bch - 80 = 5580, 7660 or
    10540 bits), and the next frame then starts in the middle of a byte, as gr-dtv's `dvb_bbheader_bb` does.
    """

    def __init__(self, stream: str = "ts", rolloff: float = 0.2, ccm: bool = True) -> None:
        if stream not in TS_GS_CODES:
            raise InputError(f"stream must be 'ts' or 'generic', not {stream!r}")
        self.stream = stream
        self.rolloff_code = rolloff_code(rolloff)
        self.ccm = bool(ccm)
        self._buf = np.zeros(0, dtype=np.uint8)  # bytes ready to go into data fields (TS: sync already replaced)
        self._bit0 = 0  # bits of _buf[0] already sent (a data field that ended inside a byte)
        self._pos = 0  # bits of the transformed stream already sent (TS: position within packets)
        self._last_crc = 0  # CRC-8 of the last pushed TS packet

    @property
    def pending_bytes(self) -> int:
        """Input bytes not yet (completely) sent."""
        return int(self._buf.size)

    @property
    def pending_bits(self) -> int:
        return int(self._buf.size) * 8 - self._bit0

    def push(self, data: bytes | np.ndarray) -> None:
        """Append input bytes. In TS mode `data` must be whole 188-byte packets, each starting with 0x47."""
        arr = np.frombuffer(bytes(data), dtype=np.uint8) if not isinstance(data, np.ndarray) else data
        arr = np.asarray(arr, dtype=np.uint8).reshape(-1)
        if arr.size == 0:
            return
        if self.stream == "ts":
            if arr.size % TS_PACKET_BYTES:
                raise InputError(f"TS input must be whole 188-byte packets, got {arr.size} bytes")
            pk = arr.reshape(-1, TS_PACKET_BYTES).copy()
            bad = np.nonzero(pk[:, 0] != TS_SYNC)[0]
            if bad.size:
                raise InputError(f"TS packet {bad[0]} of this chunk does not start with the sync byte 0x47")
            crcs = crc8_rows(pk[:, 1:])
            pk[0, 0] = self._last_crc
            pk[1:, 0] = crcs[:-1]
            self._last_crc = int(crcs[-1])
            arr = pk.reshape(-1)
        self._buf = np.concatenate([self._buf, arr]) if self._buf.size else arr.copy()

    def next_bbframe(self, k_bch: int) -> tuple[np.ndarray, BbHeader]:
        """The next BBFRAME (K_bch bits, uint8 0/1, NOT scrambled) and its header.

        Takes up to K_bch - 80 bits from the stream; if fewer are pending, the data field is shorter and zero
        padding fills the frame (DFL tells the receiver).
        """
        n = min(k_bch - BBHEADER_BITS, self.pending_bits)
        nbytes = -(-(self._bit0 + n) // 8)
        data = np.unpackbits(self._buf[:nbytes])[self._bit0 : self._bit0 + n]
        used = self._bit0 + n
        self._buf = self._buf[used // 8 :]
        self._bit0 = used % 8
        if self.stream == "ts":
            into = self._pos % (TS_PACKET_BYTES * 8)
            first = 0 if into == 0 else TS_PACKET_BYTES * 8 - into  # bits before the first packet start
            syncd = first if first < n else SYNCD_NONE  # no packet starts in this data field
            upl, sync = TS_PACKET_BYTES * 8, TS_SYNC
        else:
            syncd, upl, sync = 0, 0, 0
        self._pos += n
        hdr = BbHeader(
            ts_gs=TS_GS_CODES[self.stream],
            sis=True,
            ccm=self.ccm,
            issyi=False,
            npd=False,
            rolloff_code=self.rolloff_code,
            isi=0,
            upl_bits=upl,
            dfl_bits=n,
            sync=sync,
            syncd_bits=syncd,
        )
        out = np.zeros(k_bch, dtype=np.uint8)
        out[:BBHEADER_BITS] = hdr.to_bits()
        out[BBHEADER_BITS : BBHEADER_BITS + n] = data
        return out, hdr
