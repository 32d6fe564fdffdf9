"""Odoo rows (as search_read returns them) turned into mirror rows.

Odoo's wire conventions: `False` for every empty value, many2one as `[id, display_name]`, x2many as
id lists, datetimes as naive UTC strings "YYYY-MM-DD HH:MM:SS".

The results are plain dicts keyed by the models' attribute names (`team_id`, not `team`), ready for
escalations.bulk: a full sync maps 100,000 rows, and building a model instance for each costs
more than writing it.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable
from datetime import datetime
from operator import itemgetter
from pathlib import Path

from escalations.models import SlaStatus
from escalations.odoo import names
from escalations.odoo.schema import HelpdeskSchema
from escalations.odoo.values import m2o_id, m2o_name, odoo_datetime, text

# Part of every ticket's digest: a release whose mapping differs (a field mapped anew, a value read
# otherwise) changes every digest, so the next sync that reads a ticket writes it again (the hourly full
# sync reads them all), though Odoo's values did not change. Taken from this module's code, so that
# nobody has to remember to change it.
MAPPING_VERSION = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=8).hexdigest()


def team_row(row: dict) -> dict:
    return {
        "odoo_id": row["id"],
        "name": text(row.get("name")),
        "active": row.get("active", True),
        "use_sla": bool(row.get("use_sla", False)),
        "calendar_odoo_id": m2o_id(row.get("resource_calendar_id")),
        "member_odoo_ids": sorted(row.get("member_ids") or row.get("user_ids") or []),
        "odoo_assigns": odoo_assigns(row),
    }


def odoo_assigns(team: dict) -> str:
    """How Odoo itself assigns this team's new tickets ("" when it does not): Enterprise 16+
    `auto_assignment` with `assign_method`, OCA helpdesk_mgmt_assign_method's `assign_method`."""
    method = text(team.get("assign_method"))
    if "auto_assignment" in team:
        return (method or "randomly") if team["auto_assignment"] else ""
    return "" if method in ("", "manual") else method


def stage_row(row: dict) -> dict:
    return {
        "odoo_id": row["id"],
        "name": text(row.get("name")),
        "sequence": row.get("sequence") or 0,
        # OCA's `closed` is the real flag there; Enterprise has only `fold`.
        "is_closed": bool(row["closed"]) if "closed" in row else bool(row.get("fold")),
        "active": row.get("active", True),
    }


def agent_row(row: dict) -> dict:
    return {
        "odoo_id": row["id"],
        "name": text(row.get("name")),
        "login": text(row.get("login")),
        "email": text(row.get("email")),
        "active": row.get("active", True),
        "resource_odoo_id": min(row.get("resource_ids") or [0]) or None,
    }


def tag_row(row: dict) -> dict:
    return {"odoo_id": row["id"], "name": text(row.get("name"))}


def ticket_row(row: dict, schema: HelpdeskSchema, *, synced_at: datetime) -> dict:
    return ticket_mapper(schema, synced_at=synced_at)(row)


def ticket_mapper(schema: HelpdeskSchema, *, synced_at: datetime) -> Callable[[dict], dict]:
    """ticket_row for one schema: the Odoo field names looked up once, not per row (a full sync maps
    20,000 rows, and looking up each field's name per row was most of the mapping's time). A field this
    Odoo lacks reads as False, like an empty one."""
    f = schema.ticket_fields
    (reference, name, team, stage, assignee, priority, customer, customer_name, customer_email, active,
     created_at, assigned_at, closed_at, stage_changed_at, write_date, write_uid, sla_deadline) = (
        f.get(ours) for ours in (
            "reference", "name", "team", "stage", "assignee", "priority", "customer", "customer_name",
            "customer_email", "active", "created_at", "assigned_at", "closed_at", "stage_changed_at",
            "write_date", "write_uid", "sla_deadline",
        )
    )
    has_active = active is not None
    when = odoo_datetime

    def row_of(row: dict) -> dict:
        get = row.get
        partner = get(customer, False)
        return {
            "odoo_id": row["id"],
            "reference": get(reference, False) or "",
            "name": get(name, False) or "",
            "team_id": m2o_id(get(team, False)),
            "stage_id": m2o_id(get(stage, False)),
            "assignee_id": m2o_id(get(assignee, False)),
            "priority": get(priority, False) or "0",
            "customer_id": partner[0] if partner else None,
            "customer_name": get(customer_name, False) or (partner[1] if partner else ""),
            "customer_email": get(customer_email, False) or "",
            "active": bool(get(active, False)) if has_active else True,
            "created_at": when(get(created_at, False)),
            "assigned_at": when(get(assigned_at, False)),
            "closed_at": when(get(closed_at, False)),
            "stage_changed_at": when(get(stage_changed_at, False)),
            "odoo_write_date": when(get(write_date, False)),
            "odoo_write_uid": m2o_id(get(write_uid, False)),
            "sla_deadline": when(get(sla_deadline, False)),
            "synced_at": synced_at,
            "deleted_at": None,
            "invisible_since": None,  # read, so the console's user sees it
        }

    return row_of


def page_digests(rows: list[dict], sla_rows: dict[int, list[dict]]) -> dict[int, str]:
    """A fingerprint of what Odoo holds of each ticket of a page and its SLA records, leaving out
    `write_date` and `write_uid`.

    Odoo moves write_date without changing anything: OCA helpdesk_mgmt_sla 16.0 rewrites every open
    ticket's deadline every 5 minutes, and recomputes do the same. Comparing this fingerprint, not the
    write_date, is what lets a sync that re-reads such tickets write nothing, recompute no clock and
    raise nothing. The rows hold only the fields the mirror reads, as JSON values, so they serialize
    the same way each time. search_read gives every row the same fields: they are put in order once
    per page, and each row's values taken in that order (sorting each row's items cost more than the
    rest of the mapping).

    The mapping's own version (MAPPING_VERSION) is part of it: a release that maps differently has
    every row written again once.

    An SLA record counts by its values, not its id: Enterprise deletes a ticket's unreached SLA
    statuses and creates them again, with new ids and the same values, whenever its priority, team
    or tags are written, changed or not (`_sla_apply`). The mirror may then keep an older status's
    id, which nothing reads.

    `sla_rows`: each ticket's SLA records, for those that have some."""
    if not rows:
        return {}
    ticket_values = _values_in_order(rows[0], leave_out={"write_date", "write_uid"})
    sample = next(iter(sla_rows.values()), None)
    sla_values = _values_in_order(sample[0], leave_out={"write_date", "id"}) if sample else None

    def slas_of(odoo_id: int) -> list[tuple] | None:
        slas = sla_rows.get(odoo_id)
        return _in_order([sla_values(s) for s in slas]) if slas else None

    return {r["id"]: _digest((MAPPING_VERSION, ticket_values(r), slas_of(r["id"]))) for r in rows}


def _values_in_order(sample: dict, *, leave_out: set[str]):
    names = sorted(k for k in sample if k not in leave_out)
    return itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)


def _in_order(slas: list[tuple] | None) -> list[tuple] | None:
    # In an order of their own: Odoo's follows the ids. repr, as the values may mix False and text.
    return sorted(slas, key=repr) if slas and len(slas) > 1 else slas


def _digest(values: tuple) -> str:
    # marshal's format 0 writes plain values by value alone (later formats mark shared and interned
    # objects), several times faster than repr.
    return hashlib.blake2b(marshal.dumps(values, 0), digest_size=16).hexdigest()


def customer_row(row: dict, schema: HelpdeskSchema) -> dict | None:
    partner = row.get(schema.ticket_fields.get("customer", ""), False)
    if not partner:
        return None
    email = row.get(schema.ticket_fields.get("customer_email", ""), False)
    return {"odoo_id": partner[0], "name": partner[1], "email": text(email)}


# The states as plain strings, read once: an enum member's value costs a call, and a full sync maps
# 24,000 SLA records.
_MET, _FAILED = SlaStatus.State.MET.value, SlaStatus.State.FAILED.value
_RUNNING, _PAUSED = SlaStatus.State.RUNNING.value, SlaStatus.State.PAUSED.value
_ENTERPRISE_SLA = names.HELPDESK[names.ENTERPRISE]["sla"]
_OCA_STATES = {
    "accomplished": _MET,
    "on_hold": _PAUSED,
    # Expired but still not accomplished: the deadline stays the one to beat.
    "expired": _RUNNING,
}


def sla_status_row(row: dict, model: str) -> dict:
    deadline = odoo_datetime(row.get("deadline"))
    if model == _ENTERPRISE_SLA:
        reached = odoo_datetime(row.get("reached_datetime"))
        if reached:
            late = deadline is not None and reached > deadline
            state = _FAILED if late else _MET
        else:
            # No deadline while unreached: the ticket sits in a stage the policy excludes (frozen).
            state = _RUNNING if deadline else _PAUSED
        odoo_status = text(row.get("status"))
    else:  # OCA 17/18 helpdesk.ticket.sla
        reached = None
        odoo_status = text(row.get("state"))
        state = _OCA_STATES.get(odoo_status, _RUNNING)
    return {
        "ticket_id": row["ticket_id"][0],
        "odoo_id": row["id"],
        "name": m2o_name(row.get("sla_id")) or "SLA",
        "deadline": deadline,
        "reached_at": reached,
        "state": state,
        "odoo_status": odoo_status,
    }


def ticket_level_sla(ticket: dict) -> dict | None:
    """OCA 16 keeps one stored deadline on the ticket (refreshed by a cron); mirror it as a status."""
    if ticket["sla_deadline"] is None:
        return None
    return {
        "ticket_id": ticket["odoo_id"],
        "odoo_id": 0,
        "name": "SLA",
        "deadline": ticket["sla_deadline"],
        "reached_at": None,
        "state": _RUNNING,
        "odoo_status": "",
    }


def nearest_deadline(statuses: list[dict]) -> datetime | None:
    """The deadline that matters now: the earliest one among those not met yet."""
    return min((s["deadline"] for s in statuses if s["state"] == _RUNNING and s["deadline"]), default=None)
