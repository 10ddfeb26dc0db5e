"""The time zone rule of ``bookingsCheckout`` (SPEC §3).

With ``bookingsCheckout.timezone`` given, ``startDate``/``endDate`` are local wall-clock times in
that zone and the offsets they carry are ignored; without it, the instants are shown in the slot's
own ``timezone`` (or as sent, when the slot has none). A local time that does not exist (the hour
skipped when clocks go forward) is read as the time that hour became; one that happens twice
(clocks going back) as its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["slot_times"]


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))


def _local(wall: datetime, zone: ZoneInfo) -> datetime:
    naive = wall.replace(tzinfo=None)
    aware = naive.replace(tzinfo=zone, fold=0)
    # round-trip through UTC: a nonexistent wall time comes back moved forward by the gap
    return aware.astimezone(UTC).astimezone(zone)


def slot_times(start: str, end: str, checkout_timezone: str | None,
               slot_timezone: str | None) -> tuple[datetime, datetime, str]:
    """``(start, end, zone name)`` to show, both aware datetimes in that zone."""
    if checkout_timezone:
        zone = ZoneInfo(checkout_timezone)
        return _local(_parse(start), zone), _local(_parse(end), zone), checkout_timezone
    s, e = _parse(start), _parse(end)
    if slot_timezone:
        zone = ZoneInfo(slot_timezone)
        return s.astimezone(zone), e.astimezone(zone), slot_timezone
    return s, e, s.tzname() or "UTC"
