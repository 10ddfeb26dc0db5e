"""Property: ``fullUrl`` is ``endpoint + "?" + searchParams`` exactly, and at most 2048 chars."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import GUID, World

keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    str.isprintable)
values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)
paths = st.text("abcxyz/-_.~%20", max_size=30)
query = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=5), st.text("ab c&=?#/", max_size=10), max_size=4)
callback = st.builds(
    lambda host, path, q, frag: f"https://{host}/{path}" + (f"?{urlencode(q)}" if q else "") + (f"#{frag}" if frag else ""),
    st.sampled_from(["shop.example.com", "SHOP.example.com", "shop.example.com:8443"]),
    paths, query, st.text("abc=&", max_size=8),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(keys, values, max_size=12), post_flow=callback, thank_you=callback,
       lang=st.sampled_from([None, "de|de-de|true|0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"]))
def test_full_url_is_endpoint_plus_search_params(world: World, extra: dict, post_flow: str,  # type: ignore[type-arg]
                                                 thank_you: str, lang: str | None) -> None:
    extra = {k: v for k, v in extra.items() if k not in ("redirectSessionId", "checkoutId")}
    body = {"ecomCheckout": {"checkoutId": GUID}, "callbacks": {"postFlowUrl": post_flow, "thankYouPageUrl": thank_you},
            "preferences": {"additionalQueryParameters": extra}}
    token = world.tokens if hasattr(world, "tokens") else world.visitor()["access_token"]
    world.tokens = token  # type: ignore[attr-defined]
    headers = {"x-wix-linguist": lang} if lang else {}
    r = world.create(body, token, **headers)
    if r.status_code == 400:
        (v,) = r.json()["details"]["validationError"]["fieldViolations"]
        assert (v["field"], v["violatedRule"]) == ("preferences.additionalQueryParameters", "MAX_LENGTH")
        return
    assert r.status_code == 200, r.text
    s = r.json()["redirectSession"]
    endpoint, params = s["urlDetails"]["endpoint"], s["urlDetails"]["searchParams"]
    assert s["fullUrl"] == endpoint + "?" + urlencode(params, quote_via=quote)
    assert len(s["fullUrl"]) <= 2048
    # and a browser reading the URL gets exactly those parameters back
    assert dict(parse_qsl(urlsplit(s["fullUrl"]).query, keep_blank_values=True)) == params
    for k, v in extra.items():
        assert params[k] == v
    # callbacks never travel in the URL
    assert post_flow not in s["fullUrl"] and quote(post_flow, safe="") not in s["fullUrl"]
