"""A real authoritative DNS server on loopback for the custom domain tests (dnslib), whose
zone a test edits while the server runs."""

from __future__ import annotations

import socket
import threading
import time

from dnslib import QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSServer


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Zone(BaseResolver):
    """Names (without the trailing dot) to their records: ("TXT", "value") or ("A", "1.2.3.4").
    A name it does not hold is NXDOMAIN; a held name without the asked type answers empty.
    Names in `slow` are answered only after SLOW_SECONDS (a resolver gives up first)."""

    SLOW_SECONDS = 3.0

    def __init__(self):
        self.records: dict[str, list[tuple[str, str]]] = {}
        self.slow: set[str] = set()
        self.lock = threading.Lock()
        self.queries: list[tuple[str, str]] = []

    def add(self, name: str, kind: str, value: str) -> None:
        with self.lock:
            self.records.setdefault(name.lower().rstrip("."), []).append((kind, value))

    def remove(self, name: str) -> None:
        with self.lock:
            self.records.pop(name.lower().rstrip("."), None)

    def resolve(self, request, handler):
        reply = request.reply()
        reply.header.aa = 1
        name = str(request.q.qname).lower().rstrip(".")
        kind = QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append((name, kind))
            records = list(self.records.get(name, ()))
            known = name in self.records
            slow = name in self.slow
        if slow:
            time.sleep(self.SLOW_SECONDS)
        if not known:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for record_kind, value in records:
            if record_kind != kind:
                continue
            data = TXT(value) if kind == "TXT" else A(value)
            reply.add_answer(RR(request.q.qname, getattr(QTYPE, kind), rdata=data, ttl=1))
        return reply


class LoopbackDns:
    """`Zone` served over UDP on 127.0.0.1 and a free port."""

    def __init__(self):
        self.zone = Zone()
        self.port = free_udp_port()
        self.server = DNSServer(self.zone, address="127.0.0.1", port=self.port, logger=_Quiet())

    def start(self) -> LoopbackDns:
        self.server.start_thread()
        return self

    def stop(self) -> None:
        self.server.stop()


class _Quiet:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None
