"""Which open tickets a rule looks at, and when it fires: querysets, so that one pass over 100,000
tickets is a handful of SQL queries per rule, never one per ticket.

- scope: the rule's teams, stages, tags (any), priorities, customers and title keywords (any);
  empty parts match everything. Tickets Odoo no longer shows the console are left alone.
- trigger, each with its occasion (`occasion_at`, see models.AutomationChange):
  created   tickets created since the rule was switched on; occasion: the creation;
  changed   tickets whose values someone other than the console changed since the rule was switched
            on (the console's own writes, and Odoo's rules running on them, never fire it: no loops);
            occasion: that change's write date;
  idle      assigned tickets unchanged for `idle_minutes` working minutes on their team's calendar;
            occasion: the last change (a ticket is reminded once per idle spell);
  schedule  every ticket in scope, once per `every_minutes` period; occasion: the period's start.
- hands off: a ticket with an open escalation, an automated change still on its way to Odoo, or a
  change by a person (in Odoo, or from the console) in the last AUTOMATION_HANDS_OFF_MINUTES.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import DateTimeField, Exists, F, OuterRef, Q, QuerySet, Value

from escalations.models import (
    ODOO_SUPERUSER_ID,
    AutomationChange,
    AutomationRule,
    Escalation,
    OdooAction,
    Tag,
    Ticket,
    TicketStageChange,
)
from escalations.models.automation import OCCASION_HANDED

from .idle import team_cutoffs

Trigger = AutomationRule.Trigger
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def in_scope(rule: AutomationRule) -> QuerySet[Ticket]:
    """The open tickets the rule's scope covers (its many-to-many parts prefetched by the caller)."""
    tickets = Ticket.objects.open().filter(invisible_since__isnull=True)
    if teams := [t.pk for t in rule.teams.all()]:
        tickets = tickets.filter(team_id__in=teams)
    if stages := [s.pk for s in rule.stages.all()]:
        tickets = tickets.filter(stage_id__in=stages)
    if tags := [t.pk for t in rule.tags.all()]:
        through = Ticket.tags.through
        tickets = tickets.filter(Exists(through.objects.filter(ticket_id=OuterRef("pk"), tag_id__in=tags)))
    if rule.priorities:
        tickets = tickets.filter(priority__in=[str(p) for p in rule.priorities])
    if customers := [c.pk for c in rule.customers.all()]:
        tickets = tickets.filter(customer_id__in=customers)
    if keywords := rule.keywords:
        match = Q()
        for word in keywords:
            match |= Q(name__icontains=word)
        tickets = tickets.filter(match)
    return tickets


def schedule_period(rule: AutomationRule, now: datetime) -> datetime:
    """The start of the schedule period `now` falls in (periods counted from the epoch, in UTC)."""
    period = timedelta(minutes=rule.every_minutes or 60)
    return EPOCH + ((now - EPOCH) // period) * period


def fired(rule: AutomationRule, tickets: QuerySet[Ticket], *, now: datetime, console_uid: int | None
          ) -> QuerySet[Ticket]:
    """The tickets on which the rule's trigger fires now, annotated with `occasion_at`, and not yet
    acted on (nor handed to a person) by this rule for that occasion."""
    since = rule.enabled_at or now
    if rule.trigger == Trigger.CREATED:
        tickets = tickets.filter(created_at__gte=since).annotate(occasion_at=F("created_at"))
    elif rule.trigger == Trigger.CHANGED:
        tickets = tickets.filter(odoo_write_date__gte=since, odoo_write_date__gt=F("created_at"))
        if console_uid is not None:
            tickets = tickets.exclude(odoo_write_uid=console_uid)
        tickets = tickets.annotate(occasion_at=F("odoo_write_date"))
    elif rule.trigger == Trigger.IDLE:
        tickets = tickets.filter(assignee__isnull=False).filter(_idle(rule, tickets, now))
        tickets = tickets.annotate(occasion_at=F("odoo_write_date"))
    else:
        period = schedule_period(rule, now)
        tickets = tickets.annotate(occasion_at=Value(period, output_field=DateTimeField()))
    done = AutomationChange.objects.filter(rule=rule, ticket_id=OuterRef("pk")).filter(
        Q(occasion_at=OuterRef("occasion_at")) | Q(occasion_at=OCCASION_HANDED)
    )
    return tickets.exclude(Exists(done))


def _idle(rule: AutomationRule, tickets: QuerySet[Ticket], now: datetime) -> Q:
    teams = list(tickets.order_by().values_list("team_id", flat=True).distinct())
    cutoffs = team_cutoffs([t for t in teams if t is not None], now, rule.idle_minutes or 60)
    match = Q(pk__in=[])
    for team in teams:
        cutoff = cutoffs.get(team, cutoffs[None])
        if cutoff is not None:
            match |= Q(team_id=team, odoo_write_date__lte=cutoff) if team else Q(
                team__isnull=True, odoo_write_date__lte=cutoff)
    return match


def not_people(console_uid: int | None) -> list[int]:
    """The Odoo users whose writes are no person's: OdooBot, and the console's own user."""
    return [ODOO_SUPERUSER_ID] + ([console_uid] if console_uid is not None else [])


def written_by_person(console_uid: int | None) -> Q:
    """Tickets whose last mirrored change a person made (in Odoo; not a cron, not the console)."""
    return Q(odoo_write_uid__isnull=False) & ~Q(odoo_write_uid__in=not_people(console_uid))


def hands_off(tickets: QuerySet[Ticket], *, now: datetime, console_uid: int | None) -> QuerySet[Ticket]:
    """Leave out what automation must not touch now (see the module)."""
    recent = now - timedelta(minutes=settings.AUTOMATION_HANDS_OFF_MINUTES)
    open_escalation = Escalation.objects.filter(ticket_id=OuterRef("pk"), ended_at__isnull=True)
    on_its_way = OdooAction.objects.filter(
        ticket_id=OuterRef("pk"), kind__in=(OdooAction.Kind.AUTOMATION, OdooAction.Kind.UNDO)
    ).exclude(state__in=OdooAction.FINAL_STATES)
    console_person = OdooAction.objects.filter(
        ticket_id=OuterRef("pk"), created_by__isnull=False, created_at__gt=recent
    )
    # A creation is no change: a ticket an agent just created may still be routed.
    person_in_odoo = (Q(odoo_write_date__gt=recent) & Q(odoo_write_date__gt=F("created_at"))
                      & written_by_person(console_uid))
    return (tickets.exclude(Exists(open_escalation)).exclude(Exists(on_its_way))
            .exclude(Exists(console_person)).exclude(person_in_odoo))


def person_reasons(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate why a ticket looks non-routine and goes to a person: reopened (it left a closing
    stage), a person tag (AUTOMATION_PERSON_TAGS, e.g. VIP), or escalated before."""
    reopened = TicketStageChange.objects.filter(ticket_id=OuterRef("pk"), from_stage__is_closed=True)
    names = Q(pk__in=[])
    for name in settings.AUTOMATION_PERSON_TAGS:
        names |= Q(name__iexact=name)
    person_tags = Tag.objects.filter(names)
    through = Ticket.tags.through
    tagged = through.objects.filter(ticket_id=OuterRef("pk"), tag__in=person_tags)
    escalated = Escalation.objects.filter(ticket_id=OuterRef("pk"))
    return tickets.annotate(
        reopened=Exists(reopened), person_tag=Exists(tagged), escalated_before=Exists(escalated)
    )
