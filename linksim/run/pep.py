"""A small split-TCP performance-enhancing proxy (PEP) for IP traffic runs: one half in each namespace.

    client -> [gateway PEP, listen GW:5201] ==TCP over the satellite==> [terminal PEP, listen UT:5301] -> server
Each half terminates the TCP connection on its side and opens its own: the application's connections see a local
round trip (their window no longer limits them), and the satellite segment is one connection between the two
halves with the congestion control of choice, large socket buffers and a large initial window (set on the routes by
the traffic run). Run as `python -m linksim.run.pep --listen HOST:PORT --connect HOST:PORT [--cc NAME]`.
"""

from __future__ import annotations

import argparse
import socket
import threading

BUFFER_BYTES = 4 << 20
CHUNK = 65536


def _tune(sock: socket.socket, cc: str | None, big: bool) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if big:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER_BYTES)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER_BYTES)
    if cc:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(CHUNK)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def serve(listen: tuple[str, int], connect: tuple[str, int], cc: str | None, satellite_side: str) -> None:
    """Accept connections on `listen` and relay each to a new connection to `connect`. satellite_side ("out" or
    "in") says which of the two connections crosses the satellite (it gets the buffers and congestion control)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if satellite_side == "in":
        _tune(srv, cc, True)  # accepted sockets inherit buffers and congestion control
    srv.bind(listen)
    srv.listen(16)
    while True:
        a, _ = srv.accept()
        b = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if satellite_side == "out":
            _tune(b, cc, True)
        else:
            _tune(b, None, False)
        try:
            b.connect(connect)
        except OSError:
            a.close()
            b.close()
            continue
        for x, y in ((a, b), (b, a)):
            threading.Thread(target=_pipe, args=(x, y), daemon=True).start()


def _addr(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m linksim.run.pep", description=__doc__)
    p.add_argument("--listen", required=True, type=_addr)
    p.add_argument("--connect", required=True, type=_addr)
    p.add_argument("--cc", default=None, help="congestion control of the satellite segment (cubic, bbr, ...)")
    p.add_argument("--satellite-side", choices=("in", "out"), required=True)
    a = p.parse_args(argv)
    serve(a.listen, a.connect, a.cc, a.satellite_side)


if __name__ == "__main__":  # pragma: no cover - run in a namespace by the traffic run
    main()
