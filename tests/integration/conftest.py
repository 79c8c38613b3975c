"""Real services for integration tests: a Celery worker process and an SMTP server.

These tests need PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). Without them
they are skipped, unless REQUIRE_SERVICES is set (as in CI), when they fail.
"""
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _services_available() -> str | None:
    """None when PostgreSQL and Redis are configured, else the reason they are not."""
    if not os.environ.get("REDIS_URL"):
        return "REDIS_URL is not set"
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "DATABASE_URL does not point at PostgreSQL"
    return None


def pytest_collection_modifyitems(config, items):
    """Skip, saying why, when the services are absent, unless CI requires them:
    then the tests run and fail in the `celery_worker` fixture."""
    reason = _services_available()
    if reason is None or os.environ.get("REQUIRE_SERVICES"):
        return
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"integration test needs PostgreSQL and Redis: {reason}"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """Messages received by the SMTP server, as (envelope recipients, raw message) pairs."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf8", "replace")))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.1)
        return list(self.messages)


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _database_url(settings_dict) -> str:
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def _worker_env(smtp_controller, **extra) -> dict:
    """The environment of a worker subprocess: production settings on the test database and broker."""
    from django.db import connection

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "integration-test-only-secret-key-0123456789-abcdefghijklmnop",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "EMAIL_URL": f"smtp://{smtp_controller.hostname}:{smtp_controller.port}",
        **extra,
    }


def _stop(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """Warm shutdown, then SIGKILL to the worker's whole process group (its pool children too)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # every worker runs in a session of its own
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


def _start_worker(args: list[str], *, env: dict, log_path: Path, nodename: str) -> subprocess.Popen:
    """Start `celery worker` with `args` in a session of its own; return once `nodename` answers a ping."""
    from config.celery import app

    ARTIFACTS.mkdir(exist_ok=True)
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "-n", nodename, *args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[nodename], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery worker {nodename} did not start:\n" + log_path.read_text())
    except BaseException:
        _stop(process)
        raise
    return process


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, smtp_server):
    """A real `celery worker` process on the test database, with production settings.

    It consumes the default queue only; scans have their own worker (`scans_worker`).
    """
    reason = _services_available()
    if reason:
        pytest.fail(f"REQUIRE_SERVICES is set but {reason}")
    from config.celery import app

    controller, _inbox = smtp_server
    app.control.purge()
    process = _start_worker(
        ["--pool", "solo", "-Q", "celery"], env=_worker_env(controller),
        log_path=ARTIFACTS / "celery-worker.log", nodename=f"integration-{os.getpid()}@{socket.gethostname()}",
    )
    try:
        yield process
    finally:
        _stop(process)


@pytest.fixture
def real_celery(celery_worker, smtp_server):
    """Send tasks to the broker instead of running them in-process, for one test."""
    from config.celery import app

    _controller, inbox = smtp_server
    inbox.messages.clear()
    app.conf.task_always_eager = False
    try:
        yield inbox
    finally:
        app.conf.task_always_eager = True


SCANS_QUEUE = "scans"


class ScanWorkers:
    """Starts `celery worker -Q scans` processes like production's: the prefork pool, one child,
    so a scan runs in a child process. Each worker runs in a session (process group) of its own."""

    _numbers = itertools.count(1)

    def __init__(self, env: dict):
        self.env = env
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        """A new worker, ready; its log is `process.log_path` (test-artifacts/celery-scans-worker-N.log)."""
        number = next(self._numbers)
        log_path = ARTIFACTS / f"celery-scans-worker-{number}.log"
        process = _start_worker(
            ["--pool", "prefork", "--concurrency", "1", "-Q", SCANS_QUEUE], env=self.env, log_path=log_path,
            nodename=f"scans-{os.getpid()}-{number}@{socket.gethostname()}",
        )
        process.log_path = log_path
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            _stop(process)


def _drop_scan_messages() -> None:
    """Empty the scans queue, and drop the unacknowledged scan messages dead workers left behind
    (the broker is a test-only Redis database): none may reach a later test's versions."""
    from config.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        channel.queue_purge(SCANS_QUEUE)
        client = channel.client
        for tag, raw in client.hgetall(channel.unacked_key).items():
            _message, _exchange, routing_key = json.loads(raw)
            if routing_key == SCANS_QUEUE:
                client.pipeline().zrem(channel.unacked_index_key, tag).hdel(channel.unacked_key, tag).execute()


@pytest.fixture
def scans_worker(real_celery, smtp_server, transactional_db, _upload_storage):
    """Start workers for the "scans" queue (`scans_worker.start()`); all are stopped after the test.

    A worker subprocess does not see the test's settings, so it gets the test's
    quarantine and published folders through QUARANTINE_ROOT and PUBLISHED_ROOT.
    """
    controller, _inbox = smtp_server
    workers = ScanWorkers(_worker_env(
        controller,
        QUARANTINE_ROOT=settings.STORAGES["quarantine"]["OPTIONS"]["location"],
        PUBLISHED_ROOT=settings.STORAGES["published"]["OPTIONS"]["location"],
    ))
    _drop_scan_messages()
    try:
        yield workers
    finally:
        workers.stop_all()
        _drop_scan_messages()
