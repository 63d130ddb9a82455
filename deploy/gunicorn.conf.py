"""gunicorn's settings for Kongres: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Read from the environment (the systemd unit's EnvironmentFile) so that one file serves every
host; the defaults suit a 2-core machine behind nginx on the same host.
"""

import os

# Where to listen when systemd does not hand over its socket (deploy/systemd/kongres-web.socket):
# a unix socket or host:port (loopback only: nginx is the one door in).
bind = os.environ.get("GUNICORN_BIND", "unix:/run/kongres/gunicorn.sock")
# gthread: each worker serves GUNICORN_THREADS requests at once and keeps nginx's upstream
# connections alive (the sync worker ignores keep-alive).
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A request running longer than this is stuck: its worker is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Longer than nginx's upstream keepalive_timeout (4 s): nginx closes idle connections first.
keepalive = 5
# Workers are replaced now and then, so that a slow leak never grows.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file in memory, not on a disk that may stall.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 (gunicorn's own advice; each file is private to it)
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
# No access log: nginx logs every request, and the app logs its own with the request id.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Only nginx on this host may tell gunicorn the client's scheme (the app itself reads
# X-Forwarded-For/-Proto through PROXY_FIX_HOPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "kongres"
