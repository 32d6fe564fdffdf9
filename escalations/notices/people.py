"""Each person's notice settings (their Profile), with the console's defaults for everyone else: quiet
hours in their time zone, and the reminders they want.

Extra addresses set on a level belong to no user: they get the defaults, and have no quiet hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from escalations.models import Profile

MAX_REMINDERS = 5
NO_REMINDERS = "none"  # a profile's deadline_reminders saying so; empty is the console's default


@dataclass(frozen=True)
class NoticePrefs:
    zone: ZoneInfo
    quiet_from: time | None = None
    quiet_to: time | None = None
    deadline_percents: tuple[int, ...] = ()
    unaccepted_reminders: bool = True

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_from is not None and self.quiet_to is not None and self.quiet_from != self.quiet_to

    def in_quiet_hours(self, at: datetime) -> bool:
        if not self.has_quiet_hours:
            return False
        clock = at.astimezone(self.zone).time()
        if self.quiet_from < self.quiet_to:
            return self.quiet_from <= clock < self.quiet_to
        return clock >= self.quiet_from or clock < self.quiet_to  # across midnight

    def quiet_ends(self, at: datetime) -> datetime:
        """The next end of quiet hours after `at` (its wall-clock time that day, or the next day)."""
        local = at.astimezone(self.zone)
        for days in (0, 1):
            end = datetime.combine(local.date() + timedelta(days=days), self.quiet_to, tzinfo=self.zone)
            if end > local:
                return end.astimezone(UTC)
        raise AssertionError("a time of day comes again within a day")


def zone_named(name: str) -> ZoneInfo:
    """The zone, or the console's own for a blank or unknown name (a profile from before a rename)."""
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def parse_percents(text: str) -> tuple[int, ...]:
    """'50, 10 %' -> (50, 10), largest first; ValueError with a message a person can act on."""
    items = [item.strip().rstrip("%").strip() for item in text.replace(";", ",").split(",")]
    items = [item for item in items if item]
    try:
        values = {int(item) for item in items}
    except ValueError:
        raise ValueError("Write whole percents separated by commas, e.g. 50, 10.") from None
    if any(not 1 <= value <= 99 for value in values):
        raise ValueError("Each share must be between 1 and 99 %.")
    if len(values) > MAX_REMINDERS:
        raise ValueError(f"At most {MAX_REMINDERS} reminders per deadline.")
    return tuple(sorted(values, reverse=True))


def default_prefs() -> NoticePrefs:
    return NoticePrefs(zone=zone_named(""), deadline_percents=tuple(settings.NOTICE_REMINDERS))


def profile_prefs(profile: Profile) -> NoticePrefs:
    if not profile.deadline_reminders:
        percents = tuple(settings.NOTICE_REMINDERS)
    elif profile.deadline_reminders.strip().lower() == NO_REMINDERS:
        percents = ()
    else:
        try:
            percents = parse_percents(profile.deadline_reminders)
        except ValueError:  # typed in the admin, unchecked: the default rather than nothing
            percents = tuple(settings.NOTICE_REMINDERS)
    return NoticePrefs(
        zone=zone_named(profile.time_zone), quiet_from=profile.quiet_from, quiet_to=profile.quiet_to,
        deadline_percents=percents, unaccepted_reminders=not profile.reminders_opt_out,
    )


def prefs_for(user_ids: Iterable[int | None]) -> dict[int | None, NoticePrefs]:
    """Each user's settings, in one query; the key None (and any user without a profile) has the
    defaults: look up with `.get(user_id, prefs[None])` or `prefs_of`."""
    ids = {pk for pk in user_ids if pk is not None}
    prefs: dict[int | None, NoticePrefs] = {None: default_prefs()}
    if ids:
        for profile in Profile.objects.filter(user_id__in=ids):
            prefs[profile.user_id] = profile_prefs(profile)
    return prefs


def user_of(notices: Iterable) -> int | None:
    """The person behind an address's notices: a user's address may also be typed as an extra
    address on another level, whose notices carry no user."""
    return next((notice.user_id for notice in notices if notice.user_id is not None), None)


def prefs_of(prefs: dict[int | None, NoticePrefs], user_id: int | None) -> NoticePrefs:
    return prefs.get(user_id) or prefs[None]


def notice_settings_save(*, user, time_zone: str, quiet_from: time | None, quiet_to: time | None,
                         deadline_percents: tuple[int, ...], unaccepted_reminders: bool) -> Profile:
    """Save a person's own notice settings on their profile (made if they have none yet)."""
    profile, _ = Profile.objects.get_or_create(user=user)
    profile.time_zone = time_zone
    profile.quiet_from, profile.quiet_to = (quiet_from, quiet_to) if quiet_from != quiet_to else (None, None)
    # The console's default stays a default: who keeps it follows when NOTICE_REMINDERS changes.
    default = tuple(settings.NOTICE_REMINDERS)
    percents = tuple(sorted(set(deadline_percents), reverse=True))
    if percents == default:
        profile.deadline_reminders = ""
    else:
        profile.deadline_reminders = ",".join(str(p) for p in percents) or NO_REMINDERS
    profile.reminders_opt_out = not unaccepted_reminders
    profile.save(update_fields=["time_zone", "quiet_from", "quiet_to", "deadline_reminders",
                                "reminders_opt_out"])
    return profile
