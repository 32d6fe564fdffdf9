"""The Policies pages: each team with its escalation policy, the editor of one team's policy (checked
as one types, previewed with the engine's own evaluation, saved in one transaction), and the first-run
preview the queue shows while no team has a policy.

Supervisors only, but the first-run preview, which any signed-in person may read. The domain is
escalations.policies; these views only call it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.durations import format_duration, format_working_time
from dashboard.policy_forms import PolicyEditor, posted_policy_id, posted_revision
from dashboard.policy_words import TRIGGER_NAMES, level_words, policy_trigger_words, trigger_count_words
from escalations.models import EscalationLevel, EscalationPolicy, Team
from escalations.permissions import is_supervisor
from escalations.policies.draft import PolicyRefused
from escalations.policies.preview import policies_preview, policy_preview
from escalations.policies.proposal import AT_RISK_SHARE, policy_propose
from escalations.policies.save import policy_save, teams_without_policy

EDIT = "dashboard/policies/edit.html"
FIRST_RUN = "dashboard/partials/first_run.html#counts"
ONLY_SUPERVISORS = "Only supervisors set up escalation policies."


def _supervisor(request) -> None:
    if not is_supervisor(request.user):
        raise PermissionDenied(ONLY_SUPERVISORS)


def _team_for_supervisor(request, team_id: int) -> tuple[Team, EscalationPolicy | None]:
    _supervisor(request)
    team = get_object_or_404(Team, pk=team_id)
    return team, EscalationPolicy.objects.filter(team=team).first()


@require_GET
@login_required
def policy_list(request):
    _supervisor(request)
    levels = EscalationLevel.objects.prefetch_related("members__profile__agent").order_by("number")
    teams = (Team.objects.filter(Q(active=True) | Q(escalation_policy__isnull=False))
             .select_related("escalation_policy")
             .prefetch_related(Prefetch("escalation_policy__levels", levels))
             .order_by("name"))
    rows = []
    for team in teams:
        policy = getattr(team, "escalation_policy", None)
        rows.append({"team": team, "policy": policy,
                     "triggers": policy_trigger_words(policy) if policy else [],
                     "levels": [level_words(level) for level in policy.levels.all()] if policy else []})
    return render(request, "dashboard/policies/list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@login_required
def policy_edit(request, team_id: int):
    team, policy = _team_for_supervisor(request, team_id)
    if request.method == "GET":
        proposal = None
        if policy is None and request.GET.get("from") == "odoo":
            proposal = policy_propose(team=team, supervisor_id=request.user.pk)
        return _editor_page(request, PolicyEditor(team=team, policy=policy, proposal=proposal))
    adding = "add_level" in request.POST
    editor = PolicyEditor(team=team, policy=policy, data=request.POST, add_level=adding)
    # The proposal's explanation stays while the person works on what it filled in (the form says so).
    proposal = policy_propose(team=team) if policy is None and request.POST.get("from") == "odoo" else None
    if adding:  # one more (blank) level, nothing saved
        editor.is_valid()
        editor.hide_untouched_errors()
        return _editor_page(request, editor, proposal=proposal)
    if editor.is_valid():
        try:
            saved = policy_save(team=team, draft=editor.draft(), policy_id=posted_policy_id(request.POST),
                                revision=posted_revision(request.POST))
        except PolicyRefused as refusal:
            return _editor_page(request, editor, proposal=proposal, refused=refusal.message,
                                revision=refusal.revision, status=409)
        messages.success(request, f"Saved the escalation policy of {team.name}. The engine applies it at "
                                  "its next evaluation, within a minute.")
        return redirect(f"{reverse('policies')}#team-{saved.team_id}")
    return _editor_page(request, editor, proposal=proposal, status=400)


def _editor_page(request, editor: PolicyEditor, *, proposal=None, refused: str = "",
                 revision: int | None = None, status: int = 200) -> HttpResponse:
    """The editor; `revision`: the policy's, for the form to save from (by default the one it was opened
    at; after someone else's save, theirs, so that saving again replaces it knowingly)."""
    proposal = proposal or editor.proposal
    if revision is None:
        revision = posted_revision(editor.form.data) if editor.form.is_bound else getattr(
            editor.policy, "revision", None)
    context = {"editor": editor, "team": editor.team, "policy": editor.policy, "proposal": proposal,
               "form": editor.form, "levels": editor.levels, "refused": refused,
               "policy_id": posted_policy_id(editor.form.data) if editor.form.is_bound else editor.policy_id,
               "touched": " ".join(sorted(editor.touched)), "revision": revision}
    if proposal is not None:
        context["targets"] = [{"name": t.name, "words": format_working_time(t.target), "tickets": t.tickets}
                              for t in proposal.targets]
        context["accept_words"] = format_duration(proposal.accept_within)
    return render(request, EDIT, context, status=status)


@require_POST
@login_required
def policy_check(request, team_id: int):
    """The field errors of what the form holds now (for the fields touched) and who each level tells,
    swapped into the page out of band: the inputs a person is typing in are left alone."""
    team, policy = _team_for_supervisor(request, team_id)
    editor = PolicyEditor(team=team, policy=policy, data=request.POST)
    editor.is_valid()
    editor.hide_untouched_errors()
    context = {"editor": editor, "form": editor.form, "levels": editor.levels}
    return render(request, f"{EDIT}#checked", context)


@require_POST
@login_required
def policy_preview_view(request, team_id: int):
    """What saving the form as it is would raise, move up and end now."""
    team, policy = _team_for_supervisor(request, team_id)
    editor = PolicyEditor(team=team, policy=policy, data=request.POST)
    context = {"team": team, "policy": policy, "valid": editor.is_valid()}
    if context["valid"]:
        try:
            preview = policy_preview(team=team, draft=editor.draft(),
                                     policy_id=posted_policy_id(request.POST))
        except PolicyRefused as refusal:
            context.update(valid=False, refused=refusal.message)
        else:
            context.update(preview=preview, by_trigger=trigger_count_words(preview.by_trigger), tickets=[
                {"ticket": t, "why": TRIGGER_NAMES.get(t.trigger, t.trigger)} for t in preview.tickets])
    return render(request, f"{EDIT}#preview", context)


@require_GET
@login_required
def first_run(request):
    """What each team's proposal would raise now, while no team has a policy (the queue loads it)."""
    if EscalationPolicy.objects.exists():
        return render(request, FIRST_RUN, {"done": True})
    teams = list(teams_without_policy())
    proposals = {team.pk: policy_propose(team=team) for team in teams}
    drafts = [(team, proposals[team.pk].draft, None) for team in teams]
    previews = policies_preview(drafts=drafts) if teams else {}
    rows = [{"team": team, "preview": previews[team.pk],
             "words": trigger_count_words(previews[team.pk].by_trigger)} for team in teams]
    return render(request, FIRST_RUN, {
        "rows": rows, "total": sum(p.raised for p in previews.values()), "share": round(AT_RISK_SHARE * 100),
        "can_set_up": is_supervisor(request.user),
    })
