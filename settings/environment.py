"""The one module that reads the process environment, and the git-ignored files beside it (.env, var/secrets.env).

The running code takes its settings from `settings.current()` (settings/__init__.py), the bridge's from
bot/config.py and the console's from console/config.py; all three are built from `environ()` here, so nothing
else in the runtime packages reads `os.environ`. Standard library only: the Rasa environment (channels/,
nlu_components/) imports it too.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# Generated at the first start into var/secrets.env when the environment does not set them (scripts/stack.py).
SECRET_NAMES = ("RASA_API_TOKEN", "ACTION_SERVER_SECRET", "ADMIN_API_TOKEN", "MOCUA_CALLBACK_KEY")


def environ() -> dict[str, str]:
    """A copy of the process environment as it is now."""
    return dict(os.environ)


def child_environment(**extra: str) -> dict[str, str]:
    """The environment a child process gets: this one's, with `extra` set."""
    return {**os.environ, **extra}


def set_default(name: str, value: str) -> None:
    """Set a library's knob (OMP_NUM_THREADS, TOKENIZERS_PARALLELISM…) unless the person running us set it."""
    os.environ.setdefault(name, value)


def force(name: str, value: str) -> None:
    """Set a library's knob whatever the environment says (HF_HUB_OFFLINE: never ask the hub)."""
    os.environ[name] = value


def load_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments, blank lines, `export` and quotes allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def load_secrets(path: Path, names: tuple[str, ...] = SECRET_NAMES) -> dict[str, str]:
    """Secrets (by default RASA_API_TOKEN, ACTION_SERVER_SECRET…): from the environment, else from `path`, else new
    random ones written to `path` (readable by this user only), so that `make chat`, curl or a second start find
    them."""
    stored = load_dotenv(path)
    found = {name: os.environ.get(name) or stored.get(name) or "" for name in names}
    missing = [name for name, value in found.items() if not value]
    if missing:
        found.update({name: secrets.token_urlsafe(32) for name in missing})
        stored.update({name: found[name] for name in missing})
        write_private(path, "".join(f"{k}={v}\n" for k, v in stored.items()))
    return found


def write_private(path: Path, text: str) -> None:
    """Write `path` readable by this user only, whatever the umask, also when an older file was readable by all."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with open(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
