"""gunicorn's settings, read from the working directory by `gunicorn ciam.wsgi`.

Command-line options win over these. Access logging is off unless asked for
(`--access-logfile -`); when on, its lines carry the request id and never a URL secret
(invitation tokens, reset keys, codes, tokens: ciam.log_redaction.GunicornLogger), and
they are JSON objects with LOG_FORMAT=json.
"""

logger_class = "ciam.log_redaction.GunicornLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'
worker_class = "gthread"
threads = 4


def on_starting(server):
    """Prometheus's multiprocess mode (README, "Observability"): each worker process writes
    its metrics to files in PROMETHEUS_MULTIPROC_DIR; the files of a previous run would be
    summed in, so the folder starts empty."""
    import os
    from pathlib import Path

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for leftover in Path(folder).glob("*.db"):
            leftover.unlink()


def child_exit(server, worker):
    """A dead worker's live gauges (Redis outage) stop counting; its counters are kept."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
