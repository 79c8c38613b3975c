"""Real services for integration tests: a Celery worker process and an SMTP server.

These tests need PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). Without them
they are skipped, unless REQUIRE_SERVICES is set (as in CI), when they fail.
"""
import os
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


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, smtp_server):
    """A real `celery worker` process on the test database, with production settings."""
    reason = _services_available()
    if reason:
        pytest.fail(f"REQUIRE_SERVICES is set but {reason}")
    from django.db import connection

    from config.celery import app

    controller, _inbox = smtp_server
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "integration-test-only-secret-key-0123456789-abcdefghijklmnop",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "EMAIL_URL": f"smtp://{controller.hostname}:{controller.port}",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "celery-worker.log", "w")
    app.control.purge()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "-n", f"integration-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("The Celery worker did not start:\n" + (ARTIFACTS / "celery-worker.log").read_text())
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


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
