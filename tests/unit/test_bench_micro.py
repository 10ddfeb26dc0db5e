"""``bench/micro.py``'s per-turn rows: ``best_turns`` runs its requests ``per_turn`` to a loop
turn, so that a turn's own work is paid once per that many requests."""

from __future__ import annotations

import asyncio

import pytest
from bench.micro import best_turns


@pytest.mark.parametrize("per_turn", [1, 4])
def test_requests_share_a_turn_per_turn_at_a_time(per_turn: int) -> None:
    loop = asyncio.new_event_loop()
    turn = 0
    seen: list[int] = []

    def tick() -> None:  # a callback each turn of the loop, as a turn's end-of-turn work is
        nonlocal turn
        turn += 1
        loop.call_soon(tick)

    async def request() -> None:
        seen.append(turn)

    loop.call_soon(tick)
    try:
        assert best_turns(loop, request, 16, 1, per_turn) > 0
    finally:
        loop.close()
    assert len(seen) == 16
    groups = [seen[i:i + per_turn] for i in range(0, 16, per_turn)]
    assert all(len(set(group)) == 1 for group in groups)  # a turn's requests
    assert len({group[0] for group in groups}) == len(groups)  # each group in a turn of its own
