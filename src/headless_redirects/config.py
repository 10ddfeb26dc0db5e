"""The effective settings of a command: defaults < configuration file < environment < flags.

The configuration file is TOML with the settings' names as keys, the environment variables'
names without ``HEADLESS_REDIRECTS_`` (any case)::

    database_url = "postgresql://hr@db.internal/hr"
    public_url = "https://login.example.com"
    trusted_proxies = ["127.0.0.1"]

It is named by ``--config`` or ``HEADLESS_REDIRECTS_CONFIG``. An unknown key or a bad value is
an error, reported in one line that names the key and where its value came from.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping, MutableMapping
from typing import Any

from pydantic import ValidationError
from pydantic_settings import EnvSettingsSource
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .settings import Settings

__all__ = ["CONFIG_ENV", "ENV_PREFIX", "CommandError", "ConfigError", "Effective", "export_env", "load",
           "masked"]

ENV_PREFIX = "HEADLESS_REDIRECTS_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
# Settings whose whole value is a secret, and URL settings whose password is.
_SECRET_WORDS = ("secret", "password", "private")
MASK = "***"


class CommandError(Exception):
    """A failure the command reports in one line, and the exit code it ends with."""

    exit_code = 1


class ConfigError(CommandError):
    exit_code = 2


class Effective:
    """The settings and where each value came from: default, file, environment or flag."""

    def __init__(self, settings: Settings, sources: dict[str, str], config_file: str | None) -> None:
        self.settings = settings
        self.sources = sources
        self.config_file = config_file


def read_file(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the configuration file {path} is not valid TOML: {exc}") from None
    known = Settings.model_fields
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.lower().removeprefix(ENV_PREFIX.lower())
        if name not in known:
            raise ConfigError(f"the configuration file {path} has an unknown setting {key!r} "
                              f"(known: {', '.join(sorted(known))})")
        values[name] = value
    return values


def load(flags: Mapping[str, Any] | None = None, *, config_file: str | None = None) -> Effective:
    """The effective settings; ``flags`` holds the values given on the command line (None: not given)."""
    config_file = config_file or os.environ.get(CONFIG_ENV) or None
    from_file = read_file(config_file) if config_file else {}
    from_env = {k: v for k, v in EnvSettingsSource(Settings)().items() if k in Settings.model_fields}
    from_flags = {k: v for k, v in (flags or {}).items() if v is not None}
    sources = {name: "flag" if name in from_flags else "environment" if name in from_env
               else "file" if name in from_file else "default" for name in Settings.model_fields}
    try:
        # Keyword arguments win over the environment, which Settings() reads again: the merged
        # values are already in precedence order.
        settings = Settings(**{**from_file, **from_env, **from_flags})
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, sources, config_file)) from None
    return Effective(settings, sources, config_file)


def _one_line(exc: ValidationError, sources: Mapping[str, str], config_file: str | None) -> str:
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        where = {"environment": f"{ENV_PREFIX}{name.upper()}", "file": f"{name} in {config_file}",
                 "flag": f"--{name.replace('_', '-')}"}.get(sources.get(name, ""), name)
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message} (got {error.get('input')!r})")
    return "invalid setting " + "; ".join(problems)


def _is_secret(name: str) -> bool:
    return any(word in name for word in _SECRET_WORDS)


def masked(settings: Settings) -> dict[str, Any]:
    """Every setting, with secrets replaced by ``***``: whole values of secret settings, and the
    password inside any URL."""
    out: dict[str, Any] = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is not None and _is_secret(name):
            value = MASK
        elif isinstance(value, str) and "://" in value and "@" in value:
            value = _mask_url(value)
        out[name] = value
    return out


def _mask_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return MASK  # not a database URL: it may still hold a secret, so show none of it
    if parsed.password is None:
        return url
    return str(parsed.render_as_string(hide_password=True))


def export_env(settings: Settings, environ: MutableMapping[str, str]) -> None:
    """Write every effective setting into ``environ``, so that worker processes, which read only
    the environment, run with exactly these settings."""
    for name, value in settings.model_dump(mode="json").items():
        key = ENV_PREFIX + name.upper()
        if value is None:
            environ.pop(key, None)
        elif isinstance(value, bool):
            environ[key] = "true" if value else "false"
        elif isinstance(value, list | dict):
            environ[key] = json.dumps(value)
        else:
            environ[key] = str(value)
    environ.pop(CONFIG_ENV, None)
