"""[api], [rate_limit], [oslo_policy] and [glance] options of controlplane-api."""
from oslo_config import cfg

api_opts = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0", help="Address the API listens on."),
    cfg.PortOpt("bind_port", default=8774, help="Port the API listens on."),
    cfg.IntOpt("workers", default=2, min=1, help="API worker processes."),
    cfg.IntOpt("threads", default=8, min=1, help="Threads per API worker."),
    cfg.IntOpt("max_request_body_size", default=114688, min=1,
               help="Largest request body in bytes; larger ones get 413."),
    cfg.StrOpt("auth_strategy", default="keystone", choices=["keystone", "noauth2"],
               help="keystone validates tokens with keystonemiddleware; noauth2 "
                    "trusts X-User-Id/X-Project-Id/X-Roles (tests only)."),
    cfg.IntOpt("max_limit", default=1000, min=1, help="Most items one list returns."),
]

rate_limit_opts = [
    cfg.BoolOpt("enabled", default=True, help="Apply per-project rate limits."),
    cfg.StrOpt("limit", default="1000/minute",
               help="Requests allowed per project, in `limits` notation "
                    "(e.g. '100/second;1000/minute')."),
    cfg.StrOpt("storage_uri", default="memory://",
               help="`limits` storage: memory:// or memcached://host:11211 "
                    "for counters shared by all API workers."),
]

glance_opts = [
    cfg.StrOpt("api_servers",
               help="Glance endpoint, e.g. http://127.0.0.1:9292. When unset "
                    "the image endpoint of the token's service catalog is used."),
    cfg.IntOpt("timeout", default=10, min=1, help="Seconds to wait for Glance."),
    cfg.FloatOpt("image_cache_ttl", default=0.0, min=0.0,
                 help="Seconds an API worker reuses the metadata of an image it "
                      "read from Glance for the same project (0, the default: "
                      "ask Glance on every boot, as Nova does). Only images Glance "
                      "returned are kept; a user must still pass Keystone to get "
                      "that far. While cached, an image deleted, deactivated or "
                      "unshared in Glance can still be booted by that project."),
]


def register_opts(conf):
    conf.register_opts(api_opts, group="api")
    conf.register_opts(rate_limit_opts, group="rate_limit")
    conf.register_opts(glance_opts, group="glance")


def list_opts():
    return [("api", api_opts), ("rate_limit", rate_limit_opts), ("glance", glance_opts)]
