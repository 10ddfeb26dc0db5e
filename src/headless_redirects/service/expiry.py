"""The expiry sweeper (SPEC §12): a session whose time ran out while CREATED or OPENED reads as
EXPIRED at once (``RedirectSession.state_at``), but only a stored change is reported to webhooks.
The webhook dispatcher runs this every round; it records EXPIRED, with its event, for the sessions
of sites that have webhooks (the others need no row written)."""

from __future__ import annotations

from collections.abc import Callable

from ..domain.lifecycle import RedirectSession
from .unit_of_work import Conflict, UnitOfWork

__all__ = ["ExpirySweeper"]


class ExpirySweeper:
    def __init__(self, uow: Callable[[], UnitOfWork], sites: Callable[[], frozenset[str]],
                 past_their_time: Callable[[frozenset[str], int, int], list[RedirectSession]],
                 batch: int = 200) -> None:
        self.uow = uow
        self.sites = sites
        self.past_their_time = past_their_time
        self.batch = batch

    def __call__(self, now: int) -> int:
        """Record EXPIRED for up to one batch of sessions; how many were."""
        done = 0
        for session in self.past_their_time(self.sites(), now, self.batch):
            with self.uow() as uow:
                uow.sessions.save(session, session.expire(now))
                try:
                    uow.commit()
                    done += 1
                except Conflict:
                    pass  # it moved meanwhile (opened, completed, expired elsewhere): nothing to record
        return done
