"""``[volume_api]`` options of ``controlplane-volume-api``.

Registered with every other section by controlplane.conf (the shared
``[api]``, ``[rate_limit]`` and ``[keystone_authtoken]`` sections apply
too: auth strategy, body size, page size, rate limits).
"""
from oslo_config import cfg

GROUP = "volume_api"

opts = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0",
                       help="Address the Block Storage API listens on."),
    cfg.PortOpt("bind_port", default=8776, help="Port the Block Storage API listens on."),
    cfg.IntOpt("workers", default=2, min=1, help="API worker processes."),
    cfg.IntOpt("threads", default=8, min=1, help="Threads per API worker."),
]


def register_opts(conf):
    """Register the options (idempotent)."""
    try:
        conf.register_opts(opts, group=GROUP)
    except cfg.DuplicateOptError:
        pass


def list_opts():
    return [(GROUP, opts)]
