import json

from django.core.management.base import BaseCommand, CommandError

from escalations.odoo.errors import OdooError
from escalations.sync.run import SyncAlreadyRunning, sync_odoo


class Command(BaseCommand):
    help = "Mirror Odoo's helpdesk tickets: an incremental sync, or a full one with --full."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="read every ticket and detect deletions")
        parser.add_argument("--json", action="store_true", help="print the result as a JSON object")

    def handle(self, *args, full, json: bool, **options):
        try:
            result = sync_odoo(full=full)
        except SyncAlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        except OdooError as exc:
            raise CommandError(f"Odoo sync failed: {exc.message}") from exc
        if json:
            self.stdout.write(_json_dumps(result.as_dict()))
        else:
            self.stdout.write(result.summary())


def _json_dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True)
