"""The ``bookingsCheckout`` intent: a slot availability and the zone to show it in.

With ``timezone`` given, ``startDate``/``endDate`` are local times in that zone and their
offsets are ignored (SPEC §3); without it, the slot's own ``timezone`` is used. Dates are
accepted from year 1900 to 9998: shown in any zone they stay representable (a slot in year 1 or
9999 moved by a zone's offset falls off the calendar Python can hold).
"""

from __future__ import annotations

from typing import Any

from .errors import Rule
from .fields import Reader

__all__ = ["parse_bookings_checkout"]

_LOCATION_TYPES = ("UNDEFINED", "OWNER_BUSINESS", "OWNER_CUSTOM", "CUSTOM")
_POLICY_FLAGS = ("tooEarlyToBook", "tooLateToBook", "bookOnlineDisabled", "validSubmissionRequired")
MIN_YEAR, MAX_YEAR = 1900, 9998


def _keep(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def parse_bookings_checkout(
    r: Reader, body: dict[str, Any], name: str
) -> tuple[dict[str, Any], str | None]:
    raw = r.obj(body, name, name) or {}
    timezone = r.timezone(raw, "timezone", f"{name}.timezone")
    base = f"{name}.slotAvailability"
    sa = r.obj(raw, "slotAvailability", base, required=True)
    if sa is None:
        return _keep(timezone=timezone), None
    slot_path = f"{base}.slot"
    slot_raw = r.obj(sa, "slot", slot_path, required=True)
    slot: dict[str, Any] = {}
    if slot_raw is not None:
        start = _in_range(r, r.datetime(slot_raw, "startDate", f"{slot_path}.startDate", required=True),
                          f"{slot_path}.startDate")
        end = _in_range(r, r.datetime(slot_raw, "endDate", f"{slot_path}.endDate", required=True),
                        f"{slot_path}.endDate")
        if start is not None and end is not None and _naive(end) <= _naive(start):
            r.fail(f"{slot_path}.endDate", Rule.VALIDATION, "must be after startDate")
        slot = _keep(
            serviceId=r.guid(slot_raw, "serviceId", f"{slot_path}.serviceId", required=True),
            scheduleId=r.guid(slot_raw, "scheduleId", f"{slot_path}.scheduleId"),
            startDate=slot_raw.get("startDate") if start else None,
            endDate=slot_raw.get("endDate") if end else None,
            timezone=r.timezone(slot_raw, "timezone", f"{slot_path}.timezone"),
            eventId=r.string(slot_raw, "eventId", f"{slot_path}.eventId", max_length=256),
            resource=_resource(r, slot_raw, f"{slot_path}.resource"),
            location=_location(r, slot_raw, f"{slot_path}.location"),
        )
    waiting = r.obj(sa, "waitingList", f"{base}.waitingList")
    violations_raw = r.obj(sa, "bookingPolicyViolations", f"{base}.bookingPolicyViolations")
    availability = _keep(
        slot=slot,
        bookable=r.boolean(sa, "bookable", f"{base}.bookable", True),
        totalSpots=r.integer(sa, "totalSpots", f"{base}.totalSpots"),
        openSpots=r.integer(sa, "openSpots", f"{base}.openSpots"),
        locked=r.boolean(sa, "locked", f"{base}.locked", False),
        waitingList=None if waiting is None else _keep(
            totalSpots=r.integer(waiting, "totalSpots", f"{base}.waitingList.totalSpots"),
            openSpots=r.integer(waiting, "openSpots", f"{base}.waitingList.openSpots"),
        ),
        bookingPolicyViolations=None if violations_raw is None else {
            flag: r.boolean(violations_raw, flag, f"{base}.bookingPolicyViolations.{flag}", False)
            for flag in _POLICY_FLAGS
        },
    )
    return _keep(timezone=timezone, slotAvailability=availability), None


def _in_range(r: Reader, value: Any, path: str) -> Any:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        r.fail(path, Rule.VALIDATION, f"must be in the years {MIN_YEAR} to {MAX_YEAR}",
               min=MIN_YEAR, max=MAX_YEAR)
        return None
    return value


def _naive(value: Any) -> Any:
    # Compare local wall-clock times: offsets may be ignored (see module docstring).
    return value.replace(tzinfo=None)


def _resource(r: Reader, slot: dict[str, Any], path: str) -> dict[str, Any] | None:
    raw = r.obj(slot, "resource", path)
    if raw is None:
        return None
    return _keep(
        id=r.guid(raw, "id", f"{path}.id"),
        name=r.string(raw, "name", f"{path}.name", max_length=256),
    )


def _location(r: Reader, slot: dict[str, Any], path: str) -> dict[str, Any] | None:
    raw = r.obj(slot, "location", path)
    if raw is None:
        return None
    return _keep(
        id=r.guid(raw, "id", f"{path}.id"),
        name=r.string(raw, "name", f"{path}.name", max_length=256),
        formattedAddress=r.string(raw, "formattedAddress", f"{path}.formattedAddress", max_length=1024),
        formattedAddressTranslated=r.string(
            raw, "formattedAddressTranslated", f"{path}.formattedAddressTranslated", max_length=1024
        ),
        locationType=r.enum(raw, "locationType", f"{path}.locationType", _LOCATION_TYPES),
    )
