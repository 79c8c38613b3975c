#!/usr/bin/env python3
"""The project's single entry point. Needs only Python 3.11+.

    python3 dev.py run     set everything up and serve the demo site on http://127.0.0.1:8000
    python3 dev.py test    set everything up and run the whole test suite (extra args go to pytest)
    python3 dev.py setup   only create the virtual environment and install pinned dependencies

Both commands are idempotent: the virtual environment is reused and only
reinstalled when a requirements file changes.
"""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("VENV_DIR", ROOT / ".venv"))
REQUIREMENT_FILES = ["requirements.txt", "requirements-dev.txt", "constraints.txt"]
CHROMIUM = "/usr/bin/chromium"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 the machine has
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not venv_python().exists():
        say(f"Creating the virtual environment in {VENV}")
        try:
            run(sys.executable, "-m", "venv", VENV)
        except subprocess.CalledProcessError:
            sys.exit("Could not create a virtual environment. On Debian or Ubuntu: apt-get install python3-venv")
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in REQUIREMENT_FILES)).hexdigest()
    stamp = VENV / ".requirements-sha256"
    if not stamp.exists() or stamp.read_text() != digest:
        say("Installing pinned dependencies")
        run(venv_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "-r", "requirements-dev.txt", "-c", "constraints.txt")
        stamp.write_text(digest)


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; install it when we can, else say what is skipped."""
    if Path(CHROMIUM).exists() or os.environ.get("SKIP_BROWSER_INSTALL"):
        return
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        say("Installing Chromium for the browser tests (Debian package 'chromium')")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run([apt, "update", "-qq"], check=False, env=env)
        subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=False, env=env)
    if not Path(CHROMIUM).exists():
        say(f"Chromium is not at {CHROMIUM}: browser tests will be skipped. "
            "Install it with: sudo apt-get install chromium")


def manage(*args, env=None) -> None:
    run(venv_python(), "manage.py", *args, env=env)


def cmd_run(extra) -> None:
    setup()
    env = dict(os.environ)
    env.setdefault("DEBUG", "true")
    say("Applying database migrations")
    manage("migrate", "--no-input", "-v", "0", env=env)
    say("Loading demo data if the database is empty")
    manage("seed_demo", "--if-empty", env=env)
    address = env.get("RUN_ADDRESS", "127.0.0.1:8000")
    say(f"Serving on http://{address}/  (Ctrl-C to stop)")
    os.chdir(ROOT)
    os.execve(str(venv_python()), [str(venv_python()), "manage.py", "runserver", address, *extra], env)


def cmd_test(extra) -> None:
    setup()
    ensure_chromium()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings_test")
    say("Running the test suite")
    result = subprocess.run([str(venv_python()), "-m", "pytest", *extra], cwd=ROOT, env=env)
    sys.exit(result.returncode)


def main() -> None:
    commands = {"run": cmd_run, "test": cmd_test, "setup": lambda extra: setup()}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
