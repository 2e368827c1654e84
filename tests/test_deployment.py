"""The container image and compose file (docs/deployment.md), checked without a container
runtime: every service runs something this project has (a manage.py command, the Celery app
and its queues, the gunicorn module), every long-running service has a health check, the
web ones on /healthz or /readyz, and the pieces agree with each other (nginx and
TRUSTED_PROXY_COUNT, PgBouncer's transaction mode and DATABASE_POOLED)."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
NGINX = (ROOT / "deploy" / "nginx" / "ciam.conf").read_text()
QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}


def _dockerfile_json(instruction: str) -> list[str]:
    match = re.search(rf"^{instruction} (\[.*\])\s*$", DOCKERFILE, re.MULTILINE)
    assert match, f"no exec-form {instruction} in the Dockerfile"
    return yaml.safe_load(match.group(1))


def _command(service: dict) -> list[str]:
    command = service.get("command")
    if command is None and service.get("build") == ".":
        return _dockerfile_json("CMD")
    if isinstance(command, str):
        return shlex.split(command)
    return command or []


def _option(command: list[str], *names: str) -> str | None:
    for index, part in enumerate(command):
        if part in names:
            return command[index + 1]
    return None


def _health_test(service: dict) -> str:
    check = service.get("healthcheck") or {}
    test = check.get("test")
    if test is None and service.get("build") == ".":  # the image's own
        match = re.search(r"^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])\s*$", DOCKERFILE, re.MULTILINE)
        test = ["CMD", *yaml.safe_load(match.group(1))] if match else None
    return " ".join(test) if isinstance(test, list) else str(test or "")


def _app_services() -> dict[str, dict]:
    return {name: service for name, service in SERVICES.items() if service.get("build") == "."}


def test_every_service_is_built_here_or_is_a_known_image():
    for name, service in SERVICES.items():
        build = service.get("build")
        if build is not None:
            assert (ROOT / build / "Dockerfile").is_file(), name
        else:
            assert re.fullmatch(r"(postgres|redis|nginx):[\w.-]+", service["image"]), name


@pytest.mark.parametrize("name", sorted(_app_services()))
def test_each_app_service_runs_something_the_project_has(name):
    command = _command(SERVICES[name])
    program = command[0]
    if program == "gunicorn":
        module, _, attribute = command[1].partition(":")
        assert callable(getattr(importlib.import_module(module), attribute or "application"))
        assert (ROOT / "gunicorn.conf.py").is_file()  # read from the working directory
        assert int(_option(command, "--workers", "-w")) >= 1
    elif program == "celery":
        assert _option(command, "-A", "--app") == "ciam"
        app = importlib.import_module("ciam.celery").app
        assert app.main == "ciam"
        subcommand = next(part for part in command[3:] if not part.startswith("-"))
        assert subcommand in {"worker", "beat"}
        if subcommand == "worker":
            queues = set(_option(command, "-Q", "--queues").split(","))
            assert queues <= QUEUES, queues - QUEUES
            node = _option(command, "-n", "--hostname")
            assert node.split("@")[0] == SERVICES[name]["environment"]["CELERY_NODE"]
    elif program == "python":
        assert command[1] == "manage.py" and (ROOT / "manage.py").is_file()
        assert command[2] in get_commands(), command[2]
    else:
        pytest.fail(f"{name} runs {program!r}, which this test does not know")


def test_every_queue_has_its_worker_and_there_is_one_beat():
    served: set[str] = set()
    beats = 0
    for service in _app_services().values():
        command = _command(service)
        if command[:1] == ["celery"] and "worker" in command:
            served |= set(_option(command, "-Q", "--queues").split(","))
        beats += command[:1] == ["celery"] and "beat" in command
    assert served == QUEUES
    assert beats == 1


def test_long_running_services_have_health_checks_on_the_health_endpoints():
    for name, service in SERVICES.items():
        if service.get("restart") == "no":  # one-off (migrations)
            continue
        assert not (service.get("healthcheck") or {}).get("disable"), name
        test = _health_test(service)
        assert test, f"{name} has no health check"
        command = _command(service) if service.get("build") == "." else []
        if name == "nginx" or command[:1] == ["gunicorn"]:
            assert re.search(r"/(healthz|readyz)\b", test), (name, test)
        elif command[:1] == ["celery"] and "worker" in command:
            assert "inspect ping" in test and "CELERY_NODE" in test, name
    # The image's own check (a container run without compose) is on /healthz too.
    assert "/healthz" in _health_test({"build": "."})


def test_the_health_endpoints_answer_on_any_host(db):
    for path in ("/healthz", "/readyz"):
        answer = Client(HTTP_HOST="anything.invalid").get(path)
        assert answer.status_code == 200, (path, answer.content)


def test_nginx_and_the_web_servers_agree():
    web = SERVICES["web"]
    port = _option(_command(web), "--bind").rsplit(":", 1)[1]
    upstreams = re.findall(r"^\s*server ([\w-]+):(\d+)", NGINX, re.MULTILINE)
    assert upstreams and all(host in SERVICES and p == port for host, p in upstreams)
    # One proxy of ours in front: the client address is the entry nginx appended.
    assert "$proxy_add_x_forwarded_for" in NGINX
    assert web["environment"]["TRUSTED_PROXY_COUNT"] == "1"
    assert web["environment"]["TRUST_PROXY"] == "true" and "X-Forwarded-Proto $scheme" in NGINX
    # /metrics is for Prometheus on the private network, never through the proxy.
    assert re.search(r"location = /metrics \{ return 404; \}", NGINX)
    assert web["environment"]["PROMETHEUS_MULTIPROC_DIR"] in " ".join(web["tmpfs"])


def test_the_web_servers_reach_postgresql_through_pgbouncer_in_transaction_mode():
    ini = (ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode = transaction$", ini, re.MULTILINE)
    for name, service in _app_services().items():
        environment = service["environment"]
        if name == "migrate":  # migrations and pg_dump need a session of their own
            assert "@postgres:5432/" in environment["DATABASE_URL"]
            assert environment["DATABASE_POOLED"] == "false"
        else:
            assert "@pgbouncer:6432/" in environment["DATABASE_URL"], name
            assert environment["DATABASE_POOLED"] == "true", name


def test_the_image_installs_the_locked_requirements():
    assert "COPY requirements.txt" in DOCKERFILE
    assert "pip install --require-hashes -r requirements.txt" in DOCKERFILE
    assert "postgresql-client" in DOCKERFILE  # pg_dump: the tenant template, tenant exports
    assert re.search(r"^USER ciam$", DOCKERFILE, re.MULTILINE)  # not root
