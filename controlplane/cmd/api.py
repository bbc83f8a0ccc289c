"""``controlplane-api``: the Compute API under gunicorn.

Usage: ``controlplane-api --config-file /etc/controlplane/controlplane.conf``

Binds ``[api] bind_host:bind_port`` with ``[api] workers`` processes of
``[api] threads`` threads each (gthread worker). Every worker builds its
own app after the fork (database pools and RPC connections are never
shared across processes). keystonemiddleware reads ``[keystone_authtoken]``
from the same config files. Each request is logged with its request id,
status and duration (``controlplane.api.access``).
"""
import logging
import sys

from gunicorn.app.base import BaseApplication

from controlplane.cmd import prepare

LOG = logging.getLogger(__name__)
PROG = "controlplane-api"


def _post_fork(server, worker):
    from controlplane.compute import rpcapi
    from controlplane.db import engine as db_engine
    db_engine.dispose_all()
    rpcapi.reset_clients()


class APIApplication(BaseApplication):
    """gunicorn application loading :func:`controlplane.api.app.create_app`."""

    def __init__(self, conf):
        self.conf = conf
        super().__init__()

    def load_config(self):
        api = self.conf.api
        settings = {
            "bind": "%s:%d" % (api.bind_host, api.bind_port),
            "workers": api.workers,
            "threads": api.threads,
            "worker_class": "gthread",
            "preload_app": False,
            "timeout": 120,
            "graceful_timeout": 30,
            "keepalive": 5,
            "proc_name": PROG,
            "post_fork": _post_fork,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "debug" if self.conf.debug else "info",
        }
        for key, value in settings.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        from controlplane.api.app import create_app
        return create_app(self.conf)


def main(argv=None):
    conf = prepare(argv, prog=PROG)
    LOG.info("%s listening on %s:%d with %d workers x %d threads", PROG,
             conf.api.bind_host, conf.api.bind_port, conf.api.workers, conf.api.threads)
    APIApplication(conf).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
