"""The redirect session's state machine (domain.lifecycle)."""

from __future__ import annotations

import pytest

from headless_redirects.domain.lifecycle import (
    ABANDONED,
    COMPLETED,
    CREATED,
    EXPIRED,
    OPENED,
    InvalidTransition,
    RedirectSession,
)
from headless_redirects.domain.sessions import session_id_from_short_code, short_code

SID = "0fc930e0-5bc6-4dfe-b828-4d56c40a0c07"


def _session(state: str = CREATED, expires_at: int = 1000) -> RedirectSession:
    return RedirectSession(SID, "site", None, "ecomCheckout", {}, {}, {}, None, None, None, None, state, 0,
                           expires_at, "https://h/flow")


def test_happy_paths() -> None:
    opened = _session().open(10, "b")
    assert opened.state == OPENED and opened.open(11, "b") is opened
    assert opened.complete(12, {"orderId": "o"}).state == COMPLETED
    assert opened.abandon(12).state == ABANDONED and _session().abandon(5).state == ABANDONED


@pytest.mark.parametrize("final", [COMPLETED, ABANDONED])
def test_final_states_are_final(final: str) -> None:
    done = _session(final)
    for move in (lambda s: s.open(1, "b"), lambda s: s.complete(1, {}), lambda s: s.abandon(1)):
        with pytest.raises(InvalidTransition):
            move(done)
    assert done.state_at(10_000) == final  # a finished session never reads as expired


def test_expiry() -> None:
    assert _session().state_at(999) == CREATED and _session().state_at(1000) == EXPIRED
    with pytest.raises(InvalidTransition):
        _session(OPENED).complete(1000, {})
    with pytest.raises(InvalidTransition):
        _session().complete(5, {})  # a session must be opened before it completes


def test_short_codes_round_trip_and_reject_other_spellings() -> None:
    code = short_code(SID)
    assert len(code) == 22 and session_id_from_short_code(code) == SID
    assert session_id_from_short_code(code[:-1] + ("B" if code[-1] == "A" else "A")) != SID
    assert session_id_from_short_code("!" * 22) is None and session_id_from_short_code("short") is None
