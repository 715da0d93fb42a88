"""Kadr's own commands in a child process, with a clean environment of their own: for
tests that start what `make run` or compose would (manage.py, gunicorn, celery)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def kadr_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """This machine's environment minus any Kadr, database or Celery setting: the
    embedded default (SQLite and local files under var_dir), plus `extra`."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KADR_", "DATABASE_", "CELERY_"))
    }
    env.update({"KADR_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """`manage.py args…`; its standard output (a failure raises with its output)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout
