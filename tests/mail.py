"""A real SMTP server (aiosmtpd) that keeps what it receives, and can be told to refuse.

Used where delivery is the point: the Django process and Celery worker
subprocesses send to it over SMTP on loopback.
"""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class SmtpSink:
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    # Replies to give to the next DATA commands instead of accepting, e.g. ["451 try later"].
    scripted_replies: list[str] = field(default_factory=list)
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self._lock:
            if self.scripted_replies:
                self.refused += 1
                return self.scripted_replies.pop(0)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        from tests.server import free_port

        self.port = self.port or free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.scripted_replies.clear()
            self.refused = 0

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address.lower() in m["X-Envelope-To"].lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> list[EmailMessage]:
        """The messages delivered to `address`, once at least `count` arrived (or fail)."""
        from tests.helpers import eventually

        return eventually(
            lambda: len(found := self.to(address)) >= count and found,
            timeout=timeout,
            message=lambda: (
                f"expected {count} message(s) to {address}, got {len(self.to(address))}"
            ),
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def body_html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part else ""
