"""Fixtures of the unit tests."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.identity import EMAIL, PASSWORD


@pytest.fixture
def w(world: World) -> World:
    """The test world with a member (``tests.identity.EMAIL`` / ``PASSWORD``)."""
    world.services.members.create(world.tenant.site_id, EMAIL, PASSWORD)
    return world
