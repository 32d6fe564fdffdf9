"""Odoo's model names, in one place per helpdesk flavour.

Odoo Enterprise Helpdesk and the community OCA `helpdesk_mgmt` (+ `helpdesk_mgmt_sla`) share the
ticket model and keep their teams, stages, tags and per-ticket SLA records under different names.
escalations.odoo.schema tells which flavour an Odoo runs.
"""

ENTERPRISE = "enterprise"
OCA = "oca"

TICKET = "helpdesk.ticket"  # the same in both flavours
MESSAGE = "mail.message"  # the chatter, where the console's notes go
PARTNER = "res.partner"  # the ticket's customer
PARTNER_TAG = "res.partner.category"  # the customer's tags (VIP, ...)
USER = "res.users"
CALENDAR = "resource.calendar"
ATTENDANCE = "resource.calendar.attendance"
LEAVE = "resource.calendar.leaves"

# OCA 16 keeps the deadline on the ticket and has no per-ticket SLA records: its "sla" is unused.
HELPDESK = {
    ENTERPRISE: {"team": "helpdesk.team", "stage": "helpdesk.stage", "tag": "helpdesk.tag",
                 "sla": "helpdesk.sla.status"},
    OCA: {"team": "helpdesk.ticket.team", "stage": "helpdesk.ticket.stage", "tag": "helpdesk.ticket.tag",
          "sla": "helpdesk.ticket.sla"},
}
