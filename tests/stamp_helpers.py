"""For tests of the screens that poll with the queue's change stamp (the wall, the JSON feed).

The factories (tests.wall_factories) make escalations directly, without the event the engine writes
for each one it raises, so that a stamp would not see them: `raised` adds that event, as production does.
"""

import re

from django.utils import timezone

from escalations.models import Escalation, EscalationEvent


def raised(escalation: Escalation) -> Escalation:
    EscalationEvent.objects.create(escalation=escalation, kind=EscalationEvent.Kind.RAISED, at=timezone.now(),
                                   to_level=escalation.level)
    return escalation


def tables_read(queries) -> set[str]:
    """The tables a captured list of queries reads or writes (FROM, JOIN, UPDATE), by name."""
    pattern = re.compile(r'\b(?:FROM|JOIN|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
    return {name for query in queries for name in pattern.findall(query["sql"])}
