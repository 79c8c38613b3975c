"""Production settings: `check --deploy` is clean, and secrets are mandatory."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "false",
    # Obviously synthetic, long and random-looking enough for Django's check.
    "SECRET_KEY": "synthetic-test-key-7Qv2mZ9xLr4TgB8nKc1WdY6sHf3Jp0AeUoXiNb5RtVq",
    "ALLOWED_HOSTS": "helpdesk.example.org",
    "SITE_URL": "https://helpdesk.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "EMAIL_URL": "smtp://mail.example.org:587",
    "REDIS_URL": "",
}


def run_manage(*args, env):
    return run_python_args(["manage.py", *args], env=env)


def run_python(code, env):
    return run_python_args(["-c", code], env=env)


def run_python_args(args, env):
    dropped = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_with_production_settings_prints_no_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_deploy_check_fails_without_secret_key_when_debug_is_off():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "config.E001" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_web_app_refuses_to_start_without_secret_key(module):
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_python(f"import {module}", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert run_python(f"import {module}", env=PRODUCTION_ENV).returncode == 0


def test_commands_that_sign_nothing_run_without_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_manage("makemigrations", "--check", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
