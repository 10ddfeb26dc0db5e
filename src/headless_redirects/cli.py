"""The ``headless-redirects`` command: its parser, and the dispatch to the commands of
``cli_serve``, ``cli_sites``, ``cli_admin`` and ``cli_webhooks`` (which run on the admin service
that ``bootstrap`` wires)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .cli_admin import add_housekeeping_commands, add_mail_commands, add_member_commands
from .cli_serve import add_serve_commands
from .cli_sites import add_init_command, add_site_commands
from .cli_webhooks import add_webhook_commands
from .config import CommandError

__all__ = ["build_parser", "main"]

DESCRIPTION = """\
headless-redirects: a self-hostable redirect-session and OAuth token service.

`serve` runs it; the other commands administer its database (the one `serve` uses: the same
--database-url, --config file or HEADLESS_REDIRECTS_* variables). Every command takes --json
and then prints one JSON document on stdout; without it, a table or `key: value` lines."""

EPILOG = """\
exit codes:
  0  done
  1  an unexpected error, or a check the command ran failed (webhooks test: no 2xx)
  2  invalid usage, a bad setting or input, or an unknown id
  3  not ready: the database is unreachable or read-only, or the port cannot be listened on

Settings: `headless-redirects config` prints them; docs/operations.md runs the service in production."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, unless it has none or its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS) \
                and "default" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    # Subcommands' parsers are of the parent's class, so every --help shows the defaults.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="headless-redirects", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--database-url", metavar="URL", help="SQLAlchemy URL (default: "
                        "$HEADLESS_REDIRECTS_DATABASE_URL, else sqlite:///headless-redirects.db)")
    common.add_argument("--config", metavar="FILE", help="a TOML file of settings (default: "
                        "$HEADLESS_REDIRECTS_CONFIG); the environment and flags override it")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # In the order `--help` lists them.
    add_serve_commands(sub, common)
    add_init_command(sub, common)
    add_member_commands(sub, common)
    add_mail_commands(sub, common)
    add_webhook_commands(sub, common)
    add_site_commands(sub, common)
    add_housekeeping_commands(sub, common)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """A command's --help starts with the line the list of commands shows for it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                child = action.choices[choice.dest]
                if child.description is None:
                    child.description = choice.help
                _describe(child)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
