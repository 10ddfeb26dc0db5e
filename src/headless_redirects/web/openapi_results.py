"""The schemas of the answers, generated from the msgspec Structs the services answer with.

A Struct is the one declaration of its answer: its fields, their wire names (``rename``), which
of them may be left out (a default), and what the schema says of their values (``msgspec.Meta``
and ``Literal`` annotations) are read here by ``msgspec.json.schema_components``. The answers
that ``web`` reshapes before writing them (the identity API's StateMachineResponse and sign-on,
the current member's envelope) are Structs built here from the service Struct's own field types,
so a new state or a changed format still reaches the document from one place.
"""

from __future__ import annotations

import inspect
from typing import Any, get_type_hints

import msgspec

from ..service.authorize import AuthorizationResponse
from ..service.create_session import CreateResponse
from ..service.grants import TokenResponse
from ..service.identity import SignOn, StateResponse
from ..service.member_view import MemberView
from ..service.session_api import SessionEnvelope, SessionsPage
from ..service.tokens import TokenInfo

__all__ = ["CURRENT_MEMBER", "RESULTS", "SIGN_ON_RESPONSE", "STATE_MACHINE_RESPONSE", "result_schemas"]

REF_TEMPLATE = "#/components/schemas/{name}"


def _hint(struct: type[msgspec.Struct], field: str) -> Any:
    """The annotation of ``struct.field``, with its ``msgspec.Meta``."""
    return get_type_hints(struct, include_extras=True)[field]


# ``web.identity_api.state_wire`` / ``sign_on_wire``: the member's id under ``identity``, and the
# tokens always written (``null`` when absent).
_IDENTITY = msgspec.defstruct("MemberIdentity", [("id", _hint(StateResponse, "member_id"))], frozen=True)
STATE_MACHINE_RESPONSE = msgspec.defstruct("StateMachineResponse", [
    ("state", _hint(StateResponse, "state")),
    ("sessionToken", _hint(StateResponse, "session_token")),
    ("stateToken", _hint(StateResponse, "state_token")),
    ("identity", _IDENTITY),
], frozen=True)
SIGN_ON_RESPONSE = msgspec.defstruct("SignOnResponse", [
    ("sessionToken", _hint(SignOn, "session_token")), ("identity", _IDENTITY)], frozen=True)
CURRENT_MEMBER = msgspec.defstruct("CurrentMember", [("member", MemberView)], frozen=True)

# Each answer of the API, by the name of its component schema.
RESULTS: tuple[type[msgspec.Struct], ...] = (
    CreateResponse, SessionEnvelope, SessionsPage, TokenResponse, TokenInfo, AuthorizationResponse,
    STATE_MACHINE_RESPONSE, SIGN_ON_RESPONSE, CURRENT_MEMBER,
)


def result_schemas() -> dict[str, Any]:
    """The component schemas of :data:`RESULTS` and of every Struct they hold."""
    _, components = msgspec.json.schema_components(RESULTS, ref_template=REF_TEMPLATE)
    for schema in components.values():
        if "description" in schema:  # a docstring, as written in the source
            schema["description"] = inspect.cleandoc(schema["description"])
        # A field's default is the constructor's: on the wire such a member is left out (or, for
        # token-info's, the token is not active), never sent with that value.
        for member in schema.get("properties", {}).values():
            member.pop("default", None)
    return components
