"""The sign-in log rows of client-credentials tokens, written in batches by one thread per
process (README "Performance").

A client-credentials call writes nothing else: its row used to be a database round trip of
its own, a third of the call's CPU time on a small server. Here the request hands the row to
a bounded queue and answers; a writer thread inserts what waits, every FLUSH_SECONDS, as one
multi-row INSERT per tenant schema (committed synchronously: once written, a row survives a
database crash).

- No row is dropped: when MAX_WAITING rows wait (a database slower than the issues), the
  request writes its own row itself, as before.
- A graceful stop (gunicorn's TERM or HUP, any normal interpreter exit) writes what waits
  (atexit), before the process ends.
- A crash of the server process (SIGKILL, the OOM killer, power loss) loses the rows that
  waited: at most FLUSH_SECONDS of client-credentials issues of that process, plus one
  batch being written if the database fails at that moment. Token issues of users (code,
  refresh) are unaffected: their row is written in the same statement as their tokens.
- Inside a transaction (tests, or a caller's atomic block) the row is written at once, in
  that transaction.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading

from django.db import connection

from audit.models import SignInEvent

FLUSH_SECONDS = 0.05
MAX_WAITING = 10_000
MAX_BATCH = 1_000  # rows in one INSERT

logger = logging.getLogger(__name__)


class SignInLogWriter:
    def __init__(self) -> None:
        self._waiting: queue.Queue = queue.Queue(maxsize=MAX_WAITING)
        self._flushing = threading.Lock()
        self._starting = threading.Lock()
        self._pid: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, schema: str, parameters: dict) -> bool:
        """Queue one row (the `log_` parameters of audit.services.sign_in_event_insert) for
        `schema`; False when the queue is full (the caller writes the row itself)."""
        self._started()
        try:
            self._waiting.put_nowait((schema, parameters))
        except queue.Full:
            return False
        return True

    def waiting(self) -> int:
        return self._waiting.qsize()

    def _started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._starting:
            if self._pid == os.getpid():
                return
            # First use in this process (a forked worker starts its own writer).
            self._waiting = queue.Queue(maxsize=MAX_WAITING)
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, name="sign-in-log-writer", daemon=True
            )
            self._thread.start()
            self._pid = os.getpid()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    first = self._waiting.get(timeout=1.0)  # an idle process sleeps here
                except queue.Empty:
                    continue
                self._stop.wait(FLUSH_SECONDS)  # what comes meanwhile joins the batch
                self.flush([first])
        finally:
            connection.close()

    def flush(self, taken: list | None = None) -> int:
        """Write every waiting row now (and `taken`, rows already off the queue); returns
        how many were written."""
        written = 0
        with self._flushing:
            while True:
                batch, taken = list(taken or []), None
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._waiting.get_nowait())
                    except queue.Empty:
                        break
                if not batch:
                    return written
                try:
                    _insert(batch)
                except Exception:
                    logger.exception("sign-in log: %d rows not written, kept", len(batch))
                    self._keep(batch)
                    return written
                written += len(batch)

    def _keep(self, batch) -> None:
        for row in batch:
            try:
                self._waiting.put_nowait(row)
            except queue.Full:
                logger.error("sign-in log: queue full, a row of %s lost", row[0])

    def stop(self) -> None:
        """At a graceful exit: let the thread write the batch it holds, then write what
        still waits, in this thread."""
        if self._pid != os.getpid():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.waiting():
            self.flush()
            connection.close()


def _insert(batch: list[tuple[str, dict]]) -> None:
    by_schema: dict[str, list[dict]] = {}
    for schema, parameters in batch:
        by_schema.setdefault(schema, []).append(parameters)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for schema, rows in by_schema.items():
            names = list(rows[0])  # `log_<column>`, the same for every row
            columns = ", ".join(quote(name.removeprefix("log_")) for name in names)
            row_placeholders = "(" + ", ".join(["%s"] * len(names)) + ")"
            cursor.execute(
                f"INSERT INTO {quote(schema)}.{quote(SignInEvent._meta.db_table)} ({columns}) "
                f"VALUES {', '.join([row_placeholders] * len(rows))}",
                [row[name] for row in rows for name in names],
            )


writer = SignInLogWriter()
atexit.register(writer.stop)


def sign_in_row_write(sql: str, parameters: dict) -> None:
    """Write one sign-in log row of audit.services.sign_in_event_insert: queued for the
    writer thread, or now when inside a transaction or when the queue is full."""
    if connection.in_atomic_block or not writer.add(connection.schema_name, parameters):
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
