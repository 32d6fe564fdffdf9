"""`python manage.py release` (`make release`): the release step, once per deploy, before the new web,
worker and beat processes start. In order:

1. `check --deploy`: the settings, and the broker answering (dashboard.checks). A release whose
   configuration is wrong stops here, before it has changed the database under the running version;
2. `migrate --noinput`;
3. `collectstatic --noinput`: the compressed, content-named copies the web process serves.

Any failure stops the step with a non-zero exit, and the deploy should stop with it.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "The release step: deployment checks (broker included), migrations, then collectstatic."
    # It runs the checks itself, the deployment ones included, as its first step.
    requires_system_checks = []

    def handle(self, *args, verbosity, **options):
        self.stdout.write("release 1/3: deployment checks")
        call_command("check", deploy=True, verbosity=verbosity)
        self.stdout.write("release 2/3: migrations")
        call_command("migrate", interactive=False, verbosity=verbosity)
        self.stdout.write("release 3/3: static files")
        call_command("collectstatic", interactive=False, verbosity=verbosity)
        self.stdout.write(self.style.SUCCESS("release done"))
