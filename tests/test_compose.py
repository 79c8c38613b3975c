"""docker-compose.yml describes the production shape and points at real code."""
import importlib
from pathlib import Path

import pytest
import yaml
from celery import Celery
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service_with_a_health_check(compose):
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "mailpit"} <= set(services)
    for name in ("web", "worker", "beat", "postgres", "redis", "mailpit"):
        assert "healthcheck" in services[name], name


def test_compose_uses_named_volumes_for_database_and_media(compose):
    assert {"pgdata", "media"} <= set(compose["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    for name in ("web", "worker"):
        assert any(v.startswith("media:") for v in compose["services"][name]["volumes"]), name


def check_command(command):
    """Each command must name a module, app or management command that exists here."""
    program = command[0]
    if program == "gunicorn":
        module_name, attribute = command[1].split(":")
        assert getattr(importlib.import_module(module_name), attribute)
    elif program == "celery":
        app_module = command[command.index("-A") + 1]
        app = importlib.import_module(app_module).celery_app
        assert isinstance(app, Celery)
        assert command[command.index("-A") + 2] in {"worker", "beat"}
    elif program == "python":
        assert command[1] == "manage.py"
        assert (ROOT / "manage.py").exists()
        assert command[2] in get_commands()
    else:
        pytest.fail(f"unexpected program {program}")


@pytest.mark.parametrize("service", ["migrate", "web", "worker", "beat"])
def test_app_service_commands_point_at_real_modules(compose, service):
    check_command(compose["services"][service]["command"])


def test_app_services_get_their_settings_from_the_environment(compose):
    env = compose["services"]["web"]["environment"]
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SITE_URL", "ALLOWED_HOSTS", "MEDIA_ROOT"):
        assert name in env
    assert env["DEBUG"] == "false"
    assert env["DATABASE_URL"].startswith("postgres://")


def test_dockerfile_serves_the_wsgi_app():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "config.wsgi:application" in dockerfile
    assert "collectstatic" in dockerfile


def test_compose_worker_consumes_the_scan_queue(compose):
    """Upload scans are routed to their own queue; a worker that skipped it would leave files unscanned."""
    from django.conf import settings

    command = compose["services"]["worker"]["command"]
    queues = set(command[command.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert {"celery"} | routed <= queues
    for name in ("web", "worker"):
        assert any(v.startswith("uploads:") for v in compose["services"][name]["volumes"]), name
