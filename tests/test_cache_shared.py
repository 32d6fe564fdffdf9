"""CACHE_URL: the limits that count in the cache (wall token guesses, the webhook's rate and debounce)
count once across processes when it points at Redis; without it each process counts on its own, which
`check --deploy` says."""

import json
import uuid

import pytest
from django.test import RequestFactory

from tests.test_settings import load_settings
from tests.test_startup_checks import manage
from tests.workers import worker_broker_url

PROBE = "import json, dashboard.settings as s; print(json.dumps(getattr(s, 'CACHES', None)))"


def test_a_redis_cache_url_becomes_djangos_redis_cache_and_anything_else_is_refused(tmp_path):
    location = worker_broker_url()
    result = load_settings(tmp_path, PROBE, CACHE_URL=location)
    assert json.loads(result.stdout) == {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}
    assert json.loads(load_settings(tmp_path, PROBE).stdout) is None  # Django's local-memory default

    refused = load_settings(tmp_path, PROBE, CACHE_URL="memcached://127.0.0.1:11211")
    assert refused.returncode != 0 and "CACHE_URL must be a Redis URL" in refused.stderr


def test_the_deploy_check_warns_while_each_process_counts_on_its_own(tmp_path):
    broker = worker_broker_url()
    code, output = manage(tmp_path, "check", "--deploy", CELERY_BROKER_URL=broker)
    assert code == 0 and "dashboard.W001" in output and "CACHE_URL is not set" in output, output
    code, output = manage(tmp_path, "check", "--deploy", CELERY_BROKER_URL=broker, CACHE_URL=broker)
    assert code == 0 and "dashboard.W001" not in output, output


@pytest.fixture
def shared_cache(settings):
    """The test's own keys (a prefix of its own) in the Redis database of the test run's workers, so
    that nothing needs emptying afterwards."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": worker_broker_url(), "KEY_PREFIX": prefix}}
    return prefix  # nothing to empty afterwards: the keys expire with their window


def test_guesses_counted_in_one_process_refuse_the_address_in_another(tmp_path, shared_cache, settings):
    from dashboard.token_guesses import token_guess_failed, token_guesses_exceeded

    settings.WALL_TOKEN_GUESS_LIMIT = 3
    request = RequestFactory().get("/wall/x/", REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        token_guess_failed(request)
    assert token_guesses_exceeded(request)

    # Another process (a second web process), with the same CACHE_URL and limit, and none of this
    # process's memory.
    probe = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dashboard.settings'); "
        "django.setup(); from django.conf import settings; "
        f"settings.CACHES['default']['KEY_PREFIX'] = {shared_cache!r}; settings.WALL_TOKEN_GUESS_LIMIT = 3; "
        "from django.test import RequestFactory; from dashboard.token_guesses import token_guesses_exceeded; "
        "print(token_guesses_exceeded(RequestFactory().get('/', REMOTE_ADDR='203.0.113.9')), "
        "token_guesses_exceeded(RequestFactory().get('/', REMOTE_ADDR='203.0.113.10')))"
    )
    result = load_settings(tmp_path, probe, CACHE_URL=worker_broker_url())
    assert result.stdout.split() == ["True", "False"], result.stderr
