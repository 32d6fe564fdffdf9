"""With DEBUG on (a local demo), Django's debug page shows the settings: never a password, including
those inside the broker's, the cache's and the email server's URLs."""

import pytest
from django.views.debug import get_default_exception_reporter_filter

pytestmark = pytest.mark.django_db
BROKER = "rediss://:broker-hunter2@redis.internal:6380/0"  # a TLS broker
MAIL = "smtp://mailer:mail-hunter2@smtp.internal:587?tls=1"


def test_the_debug_page_for_an_unknown_host_shows_no_password(client, settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["console.example"]
    settings.CELERY_BROKER_URL = BROKER
    settings.EMAIL_URL = MAIL
    settings.EMAIL_HOST_PASSWORD = "mail-hunter2"
    response = client.get("/", HTTP_HOST="attacker.example")
    page = response.content.decode()
    assert response.status_code == 400 and "DisallowedHost" in page  # Django's debug page, settings and all
    assert "hunter2" not in page


def test_the_safe_settings_mask_every_url_and_secret(settings):
    settings.CELERY_BROKER_URL = settings.CACHE_URL = BROKER
    redis = "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {"default": {"BACKEND": redis, "LOCATION": BROKER}}
    settings.EMAIL_URL = MAIL
    safe = get_default_exception_reporter_filter().get_safe_settings()
    assert "hunter2" not in str(safe)
    assert safe["CELERY_BROKER_URL"] == safe["EMAIL_URL"] == "********************"
    assert safe["CACHES"]["default"]["LOCATION"] == "********************"
