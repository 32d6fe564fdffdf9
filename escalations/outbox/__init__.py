"""The outbox to Odoo: every write to Odoo is an OdooAction row, saved with the change it follows and
sent by a worker.

- send: one action applied in Odoo once, in order per ticket, retried while Odoo is down;
- sweep: rows a dead worker left, and retries whose time has come, handed to new tasks;
- watch: the ticket fields an action watches, and what the outbox says of them;
- markers: a level's tag and priority on its tickets;
- rollback: what the console takes back when Odoo refuses an action for good.

Nothing is imported here, so that importing one part never imports the others.
"""
