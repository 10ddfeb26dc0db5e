"""Fixtures of the in-process app tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from headless_redirects.logs import configure
from tests.conftest import World
from tests.identity import EMAIL, PASSWORD


@pytest.fixture
def w(world: World) -> World:
    """The test world with a member (``tests.identity.EMAIL`` / ``PASSWORD``)."""
    world.services.members.create(world.tenant.site_id, EMAIL, PASSWORD)
    return world


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """configure() rewires the named loggers; put them back for the other tests."""
    names = ("headless_redirects", "headless_redirects.access", "uvicorn", "uvicorn.error", "uvicorn.access",
             "sqlalchemy", "alembic")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
             for n in names}
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def json_logs(logging_restored: None) -> Iterator[io.StringIO]:
    """Logging as ``serve`` sets it up, into a buffer; the previous set-up restored after."""
    configure("info")
    buffer = io.StringIO()
    for handler in logging.getLogger("headless_redirects").handlers:
        handler.setStream(buffer)  # type: ignore[attr-defined]
    return buffer
