"""Setting up a team's escalation policy in the console: a draft of the policy and its levels, saved in
one transaction (save), proposed from the team's SLA targets in Odoo (targets, proposal), and
previewed with the engine's own evaluation over the mirror before it is saved (preview)."""
