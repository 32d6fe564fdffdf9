"""Mirroring Odoo's helpdesk into the app's database."""

from .run import SyncAlreadyRunning, SyncResult, sync_odoo

__all__ = ["SyncAlreadyRunning", "SyncResult", "sync_odoo"]
