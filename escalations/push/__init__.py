"""Ticket changes pushed by Odoo (17+): an automation rule's webhook names a ticket, and the console
reads that ticket at once instead of waiting for the next periodic sync.

- `tokens`: the secret addresses Odoo posts to (/hooks/odoo/<token>/), stored hashed, revocable;
- `payload` and `flood`: what the endpoint accepts, and how often;
- `schedule`: one read per ticket per burst of events, and a second one later (Odoo 17 and 18 send
  before their transaction commits);
- `read`: the targeted read, saved through the sync's own store under the sync's lease;
- `odoo_rule`: the rule and its webhook action in Odoo, installed, shown and removed through the API.

The periodic sync stays the reconciliation: Odoo never retries a webhook, and refused ones are lost.
"""
