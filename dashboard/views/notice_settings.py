"""A person's own notice settings: quiet hours in their time zone, and the reminders they want. Every
notice email links here (escalations.notices.links)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dashboard.notice_forms import NoticeSettingsForm
from dashboard.timezones import viewer_time_zone
from escalations.models import EscalationLevel, Profile
from escalations.notices.people import default_prefs, notice_settings_save, profile_prefs


def _initial(request, profile: Profile | None) -> dict:
    prefs = profile_prefs(profile) if profile is not None else default_prefs()
    zone = (profile.time_zone if profile is not None else "") or viewer_time_zone(request) or prefs.zone
    return {
        "time_zone": str(zone), "quiet_from": prefs.quiet_from, "quiet_to": prefs.quiet_to,
        "deadline_reminders": ", ".join(str(p) for p in prefs.deadline_percents),
        "unaccepted_reminders": prefs.unaccepted_reminders,
    }


@require_http_methods(["GET", "POST"])
@login_required
def notice_settings(request):
    profile = Profile.objects.filter(user=request.user).first()
    form = NoticeSettingsForm(request.POST or None, initial=_initial(request, profile))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        notice_settings_save(
            user=request.user, time_zone=data["time_zone"], quiet_from=data["quiet_from"],
            quiet_to=data["quiet_to"], deadline_percents=data["deadline_reminders"],
            unaccepted_reminders=data["unaccepted_reminders"],
        )
        messages.success(request, "Your notice settings are saved.")
        return redirect("notice-settings")
    levels = EscalationLevel.objects.filter(
        Q(members=request.user) | Q(notify_users=request.user)
    ).distinct().select_related("policy__team").order_by("policy__team__name", "number")
    return render(request, "dashboard/notice_settings.html", {
        "form": form, "levels": levels, "budget": settings.NOTICE_BUDGET,
        "window": settings.NOTICE_BUDGET_WINDOW_MINUTES,
        "default_reminders": ", ".join(f"{p} %" for p in settings.NOTICE_REMINDERS),
    }, status=400 if form.errors else 200)
