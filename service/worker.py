"""The gunicorn worker: gevent, with a bound on how long a client may stay silent.

A sync worker is held for as long as its client takes to send a request, so a
few connections that send half a request and then nothing stop the service
until gunicorn kills the worker. Under gevent a waiting connection costs a
greenlet, not a worker; this subclass also gives every connection a deadline
for silence (``FRAMING_CLIENT_TIMEOUT`` seconds, default 30), after which a
client that stopped in the middle of its body gets a 408 (see
``service.parsing``) and one that never finished its headers, or sent nothing,
is disconnected. Each case is logged in one plain line.

Work that blocks without yielding to gevent holds the whole worker: scoring
is short CPU work; SQLite's lock waits do block (see RELIABILITY.md), while
psycopg 3 waits cooperatively.
"""

from __future__ import annotations

import os
import socket

from gunicorn.workers.ggevent import GeventWorker

DEFAULT_CLIENT_TIMEOUT = 30.0


def client_timeout() -> float:
    """FRAMING_CLIENT_TIMEOUT in seconds; a bad value stops the start with a clear message."""
    raw = os.environ.get("FRAMING_CLIENT_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_CLIENT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ValueError(f"FRAMING_CLIENT_TIMEOUT must be a positive number of seconds, got {raw!r}")
    return value


class StallGuard:
    """A client socket whose reads end after ``timeout`` seconds of silence.

    A silent read returns end-of-stream, which gunicorn already handles: before
    a request it closes the connection, inside a body the body comes up short.
    ``stalled`` tells the application which of "cut" and "too slow" happened.
    """

    def __init__(self, sock: socket.socket, addr, timeout: float, log):
        self._sock = sock
        self._addr = addr
        self._timeout = timeout
        self._log = log
        self.stalled = False
        self.in_request = False
        sock.settimeout(timeout)

    def recv(self, *args):
        try:
            return self._sock.recv(*args)
        except TimeoutError:
            self.stalled = True
            who = _peer(self._addr)
            if self.in_request:
                self._log.warning("slow client %s sent nothing of its request body for %g s; answering 408",
                                  who, self._timeout)
            else:
                self._log.warning("slow client %s sent no complete request for %g s; closing the connection",
                                  who, self._timeout)
            return b""

    def __getattr__(self, name):
        return getattr(self._sock, name)


def _peer(addr) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        return f"{addr[0]}:{addr[1]}"
    return str(addr or "-")


class GuardedGeventWorker(GeventWorker):
    """gunicorn's gevent worker with a silence deadline on every connection."""

    def init_process(self):
        self.client_timeout = client_timeout()
        super().init_process()

    def handle(self, listener, client, addr):
        # AsyncWorker.handle, skipping GeventWorker.handle's setblocking(1),
        # which would lift the timeout StallGuard sets.
        super(GeventWorker, self).handle(listener, StallGuard(client, addr, self.client_timeout, self.log), addr)

    def handle_request(self, listener_name, req, sock, addr):
        sock.in_request = True  # the StallGuard handle() made
        return super().handle_request(listener_name, req, sock, addr)
