"""Gunicorn's settings for the console's web process (`make web`; README, "Running in production").

Sized for the reference machine, 2 cores that also run the Celery worker, beat, PostgreSQL and Redis.
Every figure can be set from the environment; how to choose them:

- WEB_CONCURRENCY, worker processes: each one renders pages on one core at a time (Python's lock), so
  processes are what use the cores. The default is Gunicorn's rule, 2 x cores + 1 (5 on 2 cores),
  capped at 9: past that a machine's cores are the limit, not the processes, and each process costs
  60 to 100 MB and keeps its own database connections. On a machine that runs only the web process,
  keep the rule; next to PostgreSQL and the workers, cores + 1 leaves them room.
- GUNICORN_THREADS, threads per process (the gthread worker). A thread waiting on something other
  than the CPU, a slow client or a slow network, holds only itself, not a whole process: a wall
  screen on a poor Wi-Fi, the ticket page's conversation read live from Odoo (up to ODOO_TIMEOUT). The
  gthread worker also keeps connections alive between the polls an open page sends every 10 seconds.
  Each thread may hold a database connection (DATABASE_CONN_MAX_AGE), so processes x threads is the
  web process's share of PostgreSQL's max_connections (100 by default): 5 x 4 = 20 per machine.
- GUNICORN_TIMEOUT: a process that stops answering its master this long is killed and replaced (with
  gthread a slow request does not count: its process keeps answering).
"""

import multiprocessing
import os
import re

from gunicorn.glogging import Logger


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


bind = [f"0.0.0.0:{_env_int('PORT', 8000)}"]
workers = _env_int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# SIGTERM lets requests in flight finish for this long (a deploy or a scale-down drops none).
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than the 10-second poll of an open page, so that a screen's polls reuse one connection (an
# idle one waits in the process's poller, not in a thread). Behind a load balancer, make it longer
# than the balancer's own idle timeout, or it may send a request on a connection closing under it.
keepalive = _env_int("GUNICORN_KEEPALIVE", 15)
# A process is replaced after this many requests (spread out, so they are not all replaced at once):
# whatever memory a long life gathers is given back.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# The heartbeat file on memory, not on a container's overlay disk, where a slow write can make the
# master think a healthy process hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Gunicorn's control socket lives in one path per user by default, which a second instance on the
# machine would take over: off unless a path is given.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket

accesslog = "-"  # stdout; errors to stderr
# No query string (`?token=` on the wall feed), no referrer (a page's address may carry one), no user:
# the method, the path with a wall display's token masked (RedactingLogger), the status, the size,
# the time taken in milliseconds and the user agent.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'

# A wall display's address carries its token: /wall/<token>/; so does Odoo's webhook: /hooks/odoo/<token>/.
WALL_TOKEN = re.compile(r"^/(wall|hooks/odoo)/[^/]+")


class RedactingLogger(Logger):
    """Gunicorn's logger, with the wall display's (and the webhook's) token cut out of the path it logs."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = WALL_TOKEN.sub(r"/\1/<token>", atoms.get("U") or "")
        # Unused by the format above; emptied so that no other format can log them.
        atoms["r"] = atoms["q"] = atoms["f"] = "-"
        return atoms


logger_class = RedactingLogger


def child_exit(server, worker):
    """Prometheus' multiprocess mode (when PROMETHEUS_MULTIPROC_DIR is set): a process that ended takes
    its live gauges with it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
