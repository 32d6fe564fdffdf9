"""factory_boy factories for the mirror, policies and clocks, and the people of the tests."""

from datetime import timedelta

import factory
from django.contrib.auth.models import User

from escalations.models import (
    Agent,
    EscalationLevel,
    EscalationPolicy,
    Profile,
    Stage,
    Tag,
    Team,
    Ticket,
    TicketClock,
    TicketStageChange,
)
from tests.conftest import T0


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    odoo_id = factory.Sequence(lambda n: 100 + n)
    name = factory.Sequence(lambda n: f"Support team {n}")
    use_sla = True


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    odoo_id = factory.Sequence(lambda n: 100 + n)
    name = factory.Sequence(lambda n: f"In progress {n}")
    is_closed = False


class ClosedStageFactory(StageFactory):
    name = factory.Sequence(lambda n: f"Solved {n}")
    is_closed = True


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    odoo_id = factory.Sequence(lambda n: 100 + n)
    name = factory.Faker("name")
    login = factory.Sequence(lambda n: f"agent{n}@example.com")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    odoo_id = factory.Sequence(lambda n: 100 + n)
    name = factory.Sequence(lambda n: f"tag {n}")


class TicketFactory(factory.django.DjangoModelFactory):
    """An open, assigned, recently updated ticket that fires no trigger until a test says so."""

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    odoo_id = factory.Sequence(lambda n: 1000 + n)
    reference = factory.LazyAttribute(lambda t: f"T{t.odoo_id}")
    name = factory.Sequence(lambda n: f"Printer on fire #{n}")
    team = factory.SubFactory(TeamFactory)
    stage = factory.SubFactory(StageFactory)
    assignee = factory.SubFactory(AgentFactory)
    priority = "1"
    created_at = T0 - timedelta(hours=1)
    odoo_write_date = T0 - timedelta(minutes=5)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class TicketClockFactory(factory.django.DjangoModelFactory):
    """A clock on track: at risk in two hours, due in three."""

    class Meta:
        model = TicketClock

    ticket = factory.SubFactory(TicketFactory)
    deadline = T0 + timedelta(hours=3)
    at_risk_at = factory.LazyAttribute(lambda c: c.deadline - timedelta(hours=1) if c.deadline else None)
    source = TicketClock.Source.ODOO
    computed_at = T0


class TicketStageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketStageChange

    ticket = factory.SubFactory(TicketFactory)
    from_stage = factory.SubFactory(ClosedStageFactory)
    stage = factory.LazyAttribute(lambda c: c.ticket.stage)
    at = T0 - timedelta(minutes=10)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)
    agent = factory.SubFactory(AgentFactory)


class EscalationPolicyFactory(factory.django.DjangoModelFactory):
    """Two levels: the team lead (30 minutes to accept), then senior support (no time limit).

    The SLA, reopened and tag triggers are on (the model's defaults); no-update and unassigned off.
    """

    class Meta:
        model = EscalationPolicy
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    level1 = factory.RelatedFactory(
        "tests.factories.EscalationLevelFactory", factory_related_name="policy",
        number=1, name="Team lead", accept_within=timedelta(minutes=30),
    )
    level2 = factory.RelatedFactory(
        "tests.factories.EscalationLevelFactory", factory_related_name="policy",
        number=2, name="Senior support", accept_within=None,
    )


class EscalationLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationLevel
        skip_postgeneration_save = True

    policy = factory.SubFactory(EscalationPolicyFactory, level1=None, level2=None)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda level: f"Level {level.number}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.set(extracted)
