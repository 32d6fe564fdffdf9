"""Email notices: who hears about an escalation event, and delivering each notice once.

- recipients: who a level's notices go to, and which events give which notice;
- create: `notice_create_for_events` turns new escalation events into Notice rows (the outbox), one
  per recipient of the level concerned, and enqueues their sending once the transaction commits;
  `notice_create_reminders` does the same for escalations left unaccepted past their level's
  `remind_after`, once per escalation, level and person;
- send: `notice_send` claims one notice, renders and sends it, and records what happened;
  `notice_sweep` hands rows whose task was lost (a crash, a broker down) to a new task;
- email: what a notice's email says, and its links.

Rows are keyed by unique constraints (see escalations.models.notice) and inserted with ON CONFLICT DO
NOTHING, so creating twice creates nothing new; sending claims the row with a conditional UPDATE, so
two workers never both send it. Nothing is imported here, so that importing one part never imports
the others.
"""
