"""Every public name of the client SDK is documented in docs/sdk.md."""

from __future__ import annotations

import ast
from pathlib import Path

import headless_redirects.client as client

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sdk.md").read_text()


def test_every_exported_name_is_documented() -> None:
    missing = [name for name in client.__all__ if f"`{name}" not in DOC]
    assert missing == []


def test_every_public_call_is_documented() -> None:
    for name in ("generate_visitor_tokens", "renew_token", "generate_oauth_data", "get_auth_url", "parse_from_url",
                 "get_member_tokens", "logout", "logged_in", "get_tokens", "set_tokens", "create_redirect_session"):
        assert f"{name}(" in DOC, name


def test_the_client_imports_nothing_from_the_server_side() -> None:
    root = Path(client.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 1:
                raise AssertionError(f"{path.name} imports from outside the client package")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.startswith("headless_redirects") and not n.startswith("headless_redirects.client")
                               for n in names), path.name
