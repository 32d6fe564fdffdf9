"""Mirroring the teams' working calendars: `resource.calendar` with its attendances and leaves.

Calendars are few and change rarely, and Odoo does not touch a calendar's write_date when one of its
attendances or leaves is edited on its own, so a write_date filter would miss a new public holiday.
They are read whole (three calls) on a full sync, and on an incremental sync only when a team points
at a calendar the mirror lacks: the cost of an ordinary incremental cycle stays the same.

Two-week calendars keep their flag and each attendance its week type ('0' first week, '1' second);
the section rows titling the two weeks (`display_type`), lunch breaks and one person's own attendances
(`resource_id`) are not the calendar's working time and are left out.

Leaves: of the kind "time off", for the teams' calendars or for every calendar (`calendar_id` empty,
as Odoo's public holidays often are), and not long past; one person's time off (`resource_id` set)
too, with that person, so the mirror holds it, though it never stops the team's clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q

from escalations.models import CalendarAttendance, CalendarLeave, Team, WorkingCalendar
from escalations.odoo import names
from escalations.odoo.client import OdooClient
from escalations.odoo.schema import HelpdeskSchema
from escalations.odoo.values import m2o_id, m2o_name, odoo_datetime, text, to_odoo_datetime

# Older leaves cannot move a deadline of a ticket the console still shows.
LEAVES_SINCE = timedelta(days=400)


def sync_calendars(client: OdooClient, schema: HelpdeskSchema, *, full: bool, now: datetime) -> int:
    """Read the teams' calendars (all of them on a full sync, else only missing ones); returns how many."""
    if not schema.attendance_fields:
        return 0
    wanted = set(Team.objects.exclude(calendar_odoo_id=None).values_list("calendar_odoo_id", flat=True))
    if not full:
        wanted -= set(WorkingCalendar.objects.filter(odoo_id__in=wanted).values_list("odoo_id", flat=True))
    if not wanted:
        return 0
    ids = sorted(wanted)
    calendars = client.read(names.CALENDAR, ids, schema.calendar_fields)
    if not calendars:  # deleted in Odoo: nothing more to read
        return 0
    ids = [c["id"] for c in calendars]
    attendances = client.search_read(
        names.ATTENDANCE, [("calendar_id", "in", ids)], schema.attendance_fields
    )
    leaves = client.search_read(
        names.LEAVE, _leave_domain(ids, schema, now), schema.leave_fields
    )
    save_calendars(calendars, attendances, leaves)
    return len(calendars)


def _leave_domain(ids: list[int], schema: HelpdeskSchema, now: datetime) -> list:
    domain = ["|", ("calendar_id", "in", ids), ("calendar_id", "=", False)]
    domain.append(("date_to", ">=", to_odoo_datetime(now - LEAVES_SINCE)))
    if "time_type" in schema.leave_fields:
        domain.append(("time_type", "=", "leave"))
    return domain


def save_calendars(calendars: list[dict], attendances: list[dict], leaves: list[dict]) -> None:
    """Upsert the calendars, and replace their mirrored attendances and leaves with Odoo's."""
    with transaction.atomic():
        WorkingCalendar.objects.bulk_create(
            [WorkingCalendar(**calendar_row(c)) for c in calendars],
            update_conflicts=True, unique_fields=["odoo_id"],
            update_fields=["name", "tz", "hours_per_day", "two_weeks"],
        )
        mirrored = WorkingCalendar.objects.filter(odoo_id__in=[c["id"] for c in calendars])
        pks = dict(mirrored.values_list("odoo_id", "pk"))
        _replace(
            CalendarAttendance, [r for a in attendances if (r := attendance_row(a, pks))],
            scope=CalendarAttendance.objects.filter(calendar_id__in=list(pks.values())),
            update_fields=[
                "calendar", "weekday", "hour_from", "hour_to", "date_from", "date_to", "week_type",
            ],
        )
        # Shared leaves (no calendar) belong to every calendar, so each read replaces them too.
        _replace(
            CalendarLeave, [r for lv in leaves if (r := leave_row(lv, pks))],
            scope=CalendarLeave.objects.filter(Q(calendar_id__in=list(pks.values())) | Q(calendar=None)),
            update_fields=["calendar", "name", "starts_at", "ends_at", "resource_odoo_id", "resource_name"],
        )


def _replace(model, rows: list[dict], *, scope, update_fields: list[str]) -> None:
    """Upsert the rows by odoo_id; delete the other mirrored rows in scope (gone from Odoo)."""
    model.objects.bulk_create(
        [model(**r) for r in rows],
        update_conflicts=True, unique_fields=["odoo_id"], update_fields=update_fields,
    )
    # Rows set up in the app (no odoo_id) are the app's own and stay.
    scope.exclude(odoo_id=None).exclude(odoo_id__in=[r["odoo_id"] for r in rows]).delete()


def calendar_row(row: dict) -> dict:
    return {
        "odoo_id": row["id"],
        "name": text(row.get("name")) or f"Calendar {row['id']}",
        "tz": text(row.get("tz")) or "UTC",
        "hours_per_day": row.get("hours_per_day") or 8.0,
        "two_weeks": bool(row.get("two_weeks_calendar")),
    }


def attendance_row(row: dict, calendar_pks: dict[int, int]) -> dict | None:
    calendar = calendar_pks.get(m2o_id(row.get("calendar_id")))
    # A lunch break is an attendance in Odoo 17+; a section line (Monday 0:00-0:00, which would read
    # as a whole day here) only titles a week of a two-week calendar; an attendance with a resource is
    # one person's. None of them is the calendar's working time.
    if calendar is None or row.get("display_type") or row.get("resource_id"):
        return None
    if row.get("day_period") == "lunch":
        return None
    return {
        "odoo_id": row["id"],
        "calendar_id": calendar,
        "weekday": int(row["dayofweek"]),
        "hour_from": row["hour_from"],
        "hour_to": row["hour_to"],
        "date_from": _date(row.get("date_from")),
        "date_to": _date(row.get("date_to")),
        "week_type": int(row["week_type"]) if row.get("week_type") else None,
    }


def leave_row(row: dict, calendar_pks: dict[int, int]) -> dict | None:
    odoo_calendar = m2o_id(row.get("calendar_id"))
    calendar = calendar_pks.get(odoo_calendar) if odoo_calendar else None
    starts, ends = odoo_datetime(row.get("date_from")), odoo_datetime(row.get("date_to"))
    if (odoo_calendar and calendar is None) or not starts or not ends:
        return None
    return {
        "odoo_id": row["id"], "calendar_id": calendar, "name": text(row.get("name")), "starts_at": starts,
        "ends_at": ends, "resource_odoo_id": m2o_id(row.get("resource_id")),
        "resource_name": m2o_name(row.get("resource_id")),
    }


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None
