"""Mirroring Odoo's helpdesk into the app's database (`run.sync_odoo`).

Nothing is imported here: importing a module of the sync (its mapping, say) need not load the run,
which writes the SLA clocks.
"""
