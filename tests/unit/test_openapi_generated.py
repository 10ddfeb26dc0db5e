"""The OpenAPI document's answers are generated from the services' Structs (issue 9 item 5), and
the Structs' annotations say what the hand-written schemas used to (formats, enums), without
changing what the services write."""

from __future__ import annotations

from typing import Any

import msgspec
from openapi_spec_validator import validate

from headless_redirects.domain.lifecycle import PUBLIC_STATES
from headless_redirects.service.identity import SignOn, StateResponse
from headless_redirects.service.tokens import TokenInfo
from headless_redirects.web.identity_api import sign_on_wire, state_wire
from headless_redirects.web.oauth import token_info_wire
from headless_redirects.web.openapi import document
from headless_redirects.web.openapi_results import (
    REF_TEMPLATE,
    RESULTS,
    SIGN_ON_RESPONSE,
    STATE_MACHINE_RESPONSE,
    result_schemas,
)

GUID = "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(document())


def test_every_reference_names_a_component() -> None:
    doc = document()
    names = {REF_TEMPLATE.format(name=name) for name in doc["components"]["schemas"]}
    assert _refs(doc) - names == set()


def test_the_answers_schemas_are_the_structs() -> None:
    """Each answer's component is msgspec's schema of its Struct, under the Struct's name: no
    hand-written schema stands in for one (``document()`` refuses a name declared twice)."""
    schemas = document()["components"]["schemas"]
    generated = result_schemas()
    assert {kind.__name__ for kind in RESULTS} <= set(generated)
    assert {name: schemas[name] for name in generated} == generated


def test_the_session_state_enum_is_the_public_states() -> None:
    schemas = document()["components"]["schemas"]
    assert schemas["SessionInfo"]["properties"]["state"]["enum"] == list(PUBLIC_STATES)
    listing = document()["paths"]["/_api/redirects-api/v1/redirect-sessions"]["get"]["parameters"]
    assert next(p for p in listing if p["name"] == "state")["schema"]["enum"] == list(PUBLIC_STATES)


def test_a_struct_default_is_an_optional_member() -> None:
    """``omit_defaults`` fields (and token-info's, absent for a dead token) are not required."""
    schemas = document()["components"]["schemas"]
    assert "sessionToken" not in schemas["CreatedSession"]["required"]
    assert "refresh_token" not in schemas["TokenResponse"]["required"]
    assert schemas["TokenInfo"]["required"] == ["active"]
    assert schemas["SessionInfo"]["properties"]["createdDate"]["format"] == "date-time"
    assert schemas["MemberView"]["properties"]["lastLoginDate"]["anyOf"][0]["format"] == "date-time"


def test_token_info_names_are_the_wire_names() -> None:
    """``TokenInfo``'s ``rename`` is what ``web.oauth`` writes; a dead token shows ``active`` alone."""
    live = TokenInfo(active=True, subject_type="MEMBER", subject_id=GUID, site_id=GUID, client_id=GUID,
                     expires_at=2, issued_at=1, scope="offline_access")
    assert token_info_wire(live) == msgspec.to_builtins(live)
    assert token_info_wire(TokenInfo(active=False)) == {"active": False}


def _fields(kind: type[msgspec.Struct]) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(kind)}


def test_the_reshaped_identity_answers_match_their_structs() -> None:
    """``state_wire`` and ``sign_on_wire`` write exactly the members of the Structs the document is
    generated from, with values those Structs accept."""
    for result in (StateResponse("SUCCESS", GUID, session_token="st"),
                   StateResponse("REQUIRE_EMAIL_VERIFICATION", GUID, state_token="x")):
        wire = state_wire(result)
        assert set(wire) == _fields(STATE_MACHINE_RESPONSE)
        msgspec.convert(wire, STATE_MACHINE_RESPONSE)
    wire = sign_on_wire(SignOn("st", GUID))
    assert set(wire) == _fields(SIGN_ON_RESPONSE)
    msgspec.convert(wire, SIGN_ON_RESPONSE)


def test_annotations_do_not_change_construction() -> None:
    """``msgspec.Meta`` and ``Literal`` only count when decoding: the services build these Structs
    unchecked, as before."""
    assert StateResponse("ANYTHING", "not-a-guid").state == "ANYTHING"
