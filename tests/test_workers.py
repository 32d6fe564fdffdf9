"""The Celery workers the tests start keep off Redis databases that are not theirs: start_worker empties
its broker's queue, and a run without CELERY_BROKER_URL once emptied database 0."""

from pathlib import Path

from tests.broker import TEST_REDIS_DATABASE, worker_broker_url

TESTS = Path(__file__).resolve().parent
# The one place that picks the broker, this test, and settings read in a subprocess that connects to
# nothing.
MAY_NAME_REDIS = {TESTS / "broker.py", Path(__file__).resolve(), TESTS / "test_settings.py"}


def test_without_a_broker_url_the_workers_use_the_tests_own_redis_database(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert worker_broker_url() == f"redis://127.0.0.1:6379/{TEST_REDIS_DATABASE}"
    assert TEST_REDIS_DATABASE != 0


def test_the_broker_url_is_followed_when_set(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/7")
    assert worker_broker_url() == "redis://127.0.0.1:6379/7"


def test_no_other_test_picks_a_redis_database_of_its_own():
    # A default written in a test module would bypass worker_broker_url.
    naming = [str(path.relative_to(TESTS)) for path in sorted(TESTS.rglob("*.py"))
              if path not in MAY_NAME_REDIS and "redis://" in path.read_text()]
    assert naming == []
