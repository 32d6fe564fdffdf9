"""What Django's debug page may show of the settings: never a secret, including those inside URLs.

Django masks settings whose names say API, TOKEN, KEY, SECRET, PASS or SIGNATURE; `CELERY_BROKER_URL`
and `EMAIL_URL` carry a password inside the URL (redis://:pw@host, smtp://user:pw@host), and the page
would print them in clear. Every *URL and *DSN setting is masked too (DEBUG is off by default, but a
local demo turns it on)."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretsFilter(SafeExceptionReporterFilter):
    # LOCATION: a cache's address (CACHE_URL), which may carry Redis's password.
    hidden_settings = re.compile("API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|LOCATION",
                                 flags=re.I)
