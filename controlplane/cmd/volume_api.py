"""``controlplane-volume-api``: the Block Storage API v3 under gunicorn.

Usage: ``controlplane-volume-api --config-file /etc/controlplane/controlplane.conf``

Binds ``[volume_api] bind_host:bind_port`` (default port 8776) with
``[volume_api] workers`` processes of ``[volume_api] threads`` threads
(gthread), each building its own app after the fork, like
``controlplane-api``; the ``[api]``, ``[rate_limit]`` and
``[keystone_authtoken]`` sections apply as for the Compute API.
"""
import logging
import sys

from controlplane.cmd import prepare
from controlplane.cmd.api import APIApplication

LOG = logging.getLogger(__name__)
PROG = "controlplane-volume-api"


def _post_fork(server, worker):
    from controlplane.api.volume import rpc
    from controlplane.compute import rpcapi
    from controlplane.db import engine as db_engine
    db_engine.dispose_all()
    rpcapi.reset_clients()
    rpc.reset_clients()


class VolumeAPIApplication(APIApplication):
    """gunicorn application loading :func:`controlplane.api.volume.app.create_app`."""

    def load_config(self):
        super().load_config()
        api = self.conf.volume_api
        for key, value in {"bind": "%s:%d" % (api.bind_host, api.bind_port),
                           "workers": api.workers, "threads": api.threads,
                           "proc_name": PROG, "post_fork": _post_fork}.items():
            self.cfg.set(key, value)

    def load(self):
        from controlplane.api.volume.app import create_app
        return create_app(self.conf)


def main(argv=None):
    from controlplane.conf import volume_api as vconf
    from controlplane.conf import CONF
    vconf.register_opts(CONF)
    conf = prepare(argv, prog=PROG)
    LOG.info("%s listening on %s:%d with %d workers x %d threads", PROG,
             conf.volume_api.bind_host, conf.volume_api.bind_port, conf.volume_api.workers,
             conf.volume_api.threads)
    VolumeAPIApplication(conf).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
