"""Open-redirect attempts on callback URLs (SPEC §8) and the URL building helpers."""

from __future__ import annotations

import pytest

from headless_redirects.domain.callbacks import add_query, check_callback_url

ALLOWED = ["shop.example.com", "localhost", "127.0.0.1", "[::1]", "pinned.example.com:8443"]


@pytest.mark.parametrize("url", [
    "https://shop.example.com/",
    "https://shop.example.com/path?q=1#frag",
    "https://SHOP.example.COM/x",
    "https://shop.example.com./x",
    "https://shop.example.com:444/x",
    "http://localhost:3000/cb",
    "http://127.0.0.1/cb",
    "http://[::1]:8000/cb",
    "https://pinned.example.com:8443/x",
])
def test_allowed(url: str) -> None:
    assert check_callback_url(url, ALLOWED) is None


@pytest.mark.parametrize("url", [
    "https://shop.example.com.evil.com/",          # look-alike suffix
    "https://evilshop.example.com/",               # look-alike prefix
    "https://example.com/",                        # parent domain
    "https://shop.example.com@evil.com/",          # userinfo
    "https://user:pw@shop.example.com/",           # any userinfo
    "https://evil.com\\@shop.example.com/",        # backslash
    "https://evil.com\\shop.example.com",
    "//shop.example.com/",                         # scheme-relative
    "/relative/path",
    "https:shop.example.com",
    "https:/shop.example.com",
    "https:///shop.example.com",
    "javascript://shop.example.com/%0Aalert(1)",   # scheme tricks
    "data:text/html,hi",
    "ftp://shop.example.com/",
    "http://shop.example.com/",                    # plain http off loopback
    "https://shоp.example.com/",                   # IDN homograph (Cyrillic o)
    "https://xn--shp-9cd.example.com/",            # its punycode: a different host
    "https://shop%2eexample.com/",                 # encoded dot
    "https://shop.example.com%2f@evil.com/",
    "https://shop.example.com:abc/",               # non-numeric port
    "https://shop.example.com:99999/",
    "https://pinned.example.com/",                 # pinned entry needs its port
    "https://pinned.example.com:8444/",
    "https://shop.example.com/\r\nLocation: https://evil.com",  # CRLF
    "https://shop.example.com/\t",
    " https://shop.example.com/",
    "https://[::2]/",
    "https://evil.com#@shop.example.com",
    "https://evil.com?@shop.example.com",
    "https://" + "a" * 2048 + ".shop.example.com/",
])
def test_refused(url: str) -> None:
    assert check_callback_url(url, ALLOWED) is not None


def test_add_query_keeps_the_urls_own_query_and_fragment() -> None:
    assert add_query("https://a.com/p?x=1#top", {"wixMemberLoggedIn": "true"}) == \
        "https://a.com/p?x=1&wixMemberLoggedIn=true#top"
    assert add_query("https://a.com/p", {"code": "a b", "state": "s&t"}, fragment=True) == \
        "https://a.com/p#code=a%20b&state=s%26t"
