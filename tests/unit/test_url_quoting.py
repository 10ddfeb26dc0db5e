"""The session URL's query values are escaped exactly as ``urllib.parse.quote(value, safe="")``
(``urlencode``'s escaping), including the shortcut for values that need none (issue 12)."""

from __future__ import annotations

from urllib.parse import quote

from headless_redirects.service.create_session import _quote


def test_every_character_is_escaped_as_urllib_escapes_it() -> None:
    for point in [*range(0x180), 0x2028, 0xFEFF, 0x1F600]:
        char = chr(point)
        assert _quote(char) == quote(char, safe=""), hex(point)
        assert _quote(f"abc{char}-0") == quote(f"abc{char}-0", safe=""), hex(point)


def test_values_that_need_no_escaping_are_answered_as_they_are() -> None:
    for value in ["", "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07", "redirectSessionId", "a.b~c_d-E9"]:
        assert _quote(value) is value
