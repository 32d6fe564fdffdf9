"""A two-week working calendar built in the simulator the way Odoo's "Switch to 2 weeks calendar" button
leaves it: two section rows titling the weeks, then each week's attendances with its week type.

Week 0 ("First week") works Monday to Friday, week 1 ("Second week") Monday to Wednesday, 08:00-12:00
and 13:00-17:00 Europe/Brussels with a lunch-break attendance in between. By Odoo's `get_week_type`
the week of Monday 23 November 2026 is a first week, that of Monday 30 November a second one.
"""

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
WEEKS = {"0": range(5), "1": range(3)}


def create_two_week_calendar(state, name: str = "Alternating weeks") -> int:
    calendar = state.call("resource.calendar", "create", [{
        "name": name, "tz": "Europe/Brussels", "hours_per_day": 8.0, "two_weeks_calendar": True,
    }])
    rows = []
    for week, sequence in (("0", 0), ("1", 25)):
        # The section row: Monday, 0:00-0:00, in the week it titles; not working time.
        rows.append({
            "name": "First week" if week == "0" else "Second week", "dayofweek": "0", "hour_from": 0,
            "hour_to": 0, "day_period": "morning", "week_type": week, "display_type": "line_section",
            "sequence": sequence,
        })
        for day in WEEKS[week]:
            for h_from, h_to, period in ((8, 12, "morning"), (12, 13, "lunch"), (13, 17, "afternoon")):
                rows.append({
                    "name": f"{DAYS[day]} {period}", "dayofweek": str(day), "hour_from": h_from,
                    "hour_to": h_to, "day_period": period, "week_type": week, "sequence": sequence + 1 + day,
                })
    state.call("resource.calendar.attendance", "create", [[{**r, "calendar_id": calendar} for r in rows]])
    return calendar


def create_person_on_leave(state, *, calendar: int, date_from: str, date_to: str, name="Dentist") -> int:
    """A resource (an agent) with a day off of their own on `calendar`, as hr_holidays records it."""
    user = state.call("res.users", "search", [[("login", "!=", "admin")]], {"limit": 1})[0]
    resource = state.call("resource.resource", "create", [{
        "name": "Agent on leave", "user_id": user, "calendar_id": calendar, "tz": "Europe/Brussels",
    }])
    state.call("resource.calendar.leaves", "create", [{
        "name": name, "calendar_id": calendar, "resource_id": resource, "time_type": "leave",
        "date_from": date_from, "date_to": date_to,
    }])
    return resource
