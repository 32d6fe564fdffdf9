"""`python manage.py report_rollup [--full]`: bring the reports' rollup up to date now, as beat does
every REPORTS_ROLLUP_SECONDS; `--full` rebuilds every row (after restoring a backup, say)."""

import time

from django.core.management.base import BaseCommand

from escalations.reports.rollup import report_rollup


class Command(BaseCommand):
    help = "Bring the reports' rollup up to date (--full: rebuild it whole)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every row, not only what changed")

    def handle(self, *args, full: bool, **options):
        started = time.perf_counter()
        result = report_rollup(full=full)
        what = ("every ticket" if result.full
                else f"{result.tickets} ticket{'s' if result.tickets != 1 else ''}")
        self.stdout.write(f"Reports rollup: rebuilt {what} in {time.perf_counter() - started:.1f} s.")
