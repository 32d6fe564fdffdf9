import json

from django.core.management.base import BaseCommand

from escalations.engine import evaluate_escalations


class Command(BaseCommand):
    help = "Evaluate the escalation rules once: raise, move up and end escalations."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the result as a JSON object")

    def handle(self, *args, json: bool, **options):
        result = evaluate_escalations()
        if json:
            self.stdout.write(_json_dumps(result.as_dict()))
        else:
            self.stdout.write(result.summary())


def _json_dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True)
