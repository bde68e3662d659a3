"""gunicorn settings for the framing API (``gunicorn -c gunicorn.conf.py``).

HOST/PORT pick the bind address, WEB_CONCURRENCY the workers (default: cores).
Workers are gevent-based (service.worker): a connection waiting on a slow or
silent client costs a greenlet, not a worker, and a client silent for
FRAMING_CLIENT_TIMEOUT seconds (default 30) gets a 408 or is disconnected.
Each worker builds the app, so each loads and verifies the model once. Sending
HUP to the master starts new workers, which load the model found at
FRAMING_MODEL_DIR *then*, and retires the old ones after their requests finish:
that is how a new model version goes live without dropping requests.
"""

import multiprocessing
import os
import shutil
import tempfile

wsgi_app = "service.app:create_app()"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "service.worker.GuardedGeventWorker"
worker_connections = 1000
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# One request per connection: a pipelined second request is never read, and a
# connection left open after its answer holds nothing.
keepalive = 0
max_requests = 5000
max_requests_jitter = 500
# Request-line and header limits (gunicorn's defaults, stated for the reader).
limit_request_line = 8190
limit_request_fields = 100
# gunicorn 24+ opens a control socket under $HOME; the service needs none, and
# the container's unprivileged user has no home to put it in.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("FRAMING_LOG_LEVEL", "info").lower()
# The access log never shows bodies or the Authorization header.
# Path without the query string, so a key or text put in a URL never reaches the log.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus rid=%({x-request-id}o)s'

# Prometheus multi-process mode: every worker writes its samples into one
# directory, and /metrics adds them up. It must be set before workers import
# prometheus_client, which is why it lives here.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="framing-prom-")
    _OWN_PROM_DIR = True
else:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    _OWN_PROM_DIR = False


def on_starting(server):
    # Stale files from an earlier run would be added to this run's numbers.
    prom_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for name in os.listdir(prom_dir):
        if name.endswith(".db"):
            os.unlink(os.path.join(prom_dir, name))
    _migrate_label_database(server)


def _migrate_label_database(server):
    """Migrate once in the master, before workers fork; an outage here only
    delays it (each worker migrates on first use if it is still needed)."""
    from labeling.db import Database, describe, safe_url

    db = None
    try:
        db = Database()
        db.ensure_schema()
    except Exception as exc:  # noqa: BLE001 - the scoring API must start regardless
        server.log.warning("label database %s not migrated at start-up: %s",
                           safe_url(db.url) if db else "-", describe(exc))
    finally:
        if db is not None:
            db.dispose()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_PROM_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
