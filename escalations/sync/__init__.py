"""Mirroring Odoo's helpdesk into the app's database (`run.sync_odoo`).

Nothing is imported here: escalations.sla.refresh writes through this package's bulk module, so a
package that imported its own run (which refreshes the SLA clocks) would make the two import each other.
"""
