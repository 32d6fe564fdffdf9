"""Email notices: who hears about an escalation event, how often, and delivering each notice once.

- recipients: who a level's notices go to (its members, the users it notifies, its extra addresses),
  and which events give which notice;
- create: `notice_create_for_events` turns new escalation events into Notice rows (the outbox), one
  per recipient of the level concerned; `notice_create_reminders` does the same for escalations left
  unaccepted past their level's `remind_after`, once per escalation, level and person;
- deadlines: reminders when a share of an escalated ticket's SLA window is left (NOTICE_REMINDERS,
  or each person's choice);
- route, budget, people: whether a new notice goes alone at once, or is held for a digest (over the
  person's budget, or a backlog) or for the end of their quiet hours;
- digest: `notice_release_held` sends what was held once its time comes, as one digest per person;
- send: `notice_send` claims one notice (or digest), renders and sends it, and records what
  happened; `notice_sweep` hands rows whose task was lost (a crash, a broker down) to a new task;
- email, digest_email, words, links, stale: what the emails say, and when a reminder lost its point.

Rows are keyed by unique constraints (see escalations.models.notice) and inserted with ON CONFLICT DO
NOTHING, so creating twice creates nothing new; sending claims the row with a conditional UPDATE, so
two workers never both send it. Nothing is imported here, so that importing one part never imports
the others.
"""
