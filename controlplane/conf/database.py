"""[database] (cell1) and [api_database] connections."""
from oslo_config import cfg

_common = [
    cfg.IntOpt("max_retries", default=10, min=1,
               help="Times a transaction is retried on deadlock or lost connection."),
    cfg.IntOpt("max_pool_size", default=10, min=1, help="Connections kept per engine."),
    cfg.IntOpt("max_overflow", default=20, min=0, help="Extra connections under load."),
    cfg.IntOpt("pool_timeout", default=30, min=1, help="Seconds to wait for a pooled connection."),
    cfg.IntOpt("connection_recycle_time", default=3600, min=1,
               help="Seconds after which a pooled connection is replaced."),
    cfg.IntOpt("socket_timeout", default=30, min=0,
               help="Seconds a query's socket read or write may wait (PyMySQL "
                    "read_timeout/write_timeout; 0: no limit). A connection whose "
                    "server vanished without a reset (its host fenced or cut off "
                    "behind the VIP) otherwise blocks its thread for good; the "
                    "timeout raises 2013, which retry_on_db_error retries."),
    cfg.IntOpt("tcp_user_timeout", default=5, min=0,
               help="Seconds after which a connection whose server stopped "
                    "answering counts as lost (TCP_USER_TIMEOUT for unacknowledged "
                    "data, and TCP keepalive: probes after this many idle seconds, "
                    "one a second, as many as the seconds). A query waiting for "
                    "its answer when the VIP moved away from the HAProxy it went "
                    "through then fails with 2013 within about twice this time "
                    "(at once when the VIP's new holder resets the probe) and is "
                    "retried, instead of waiting for socket_timeout. 0 keeps the "
                    "kernel's defaults."),
]

database_opts = [
    cfg.StrOpt("connection", secret=True,
               default="mysql+pymysql://root@127.0.0.1/controlplane_cell1",
               help="SQLAlchemy URL of this cell's database."),
] + _common

api_database_opts = [
    cfg.StrOpt("connection", secret=True,
               default="mysql+pymysql://root@127.0.0.1/controlplane_api",
               help="SQLAlchemy URL of the API database."),
] + [o for o in _common]


def register_opts(conf):
    conf.register_opts(database_opts, group="database")
    conf.register_opts(api_database_opts, group="api_database")


def list_opts():
    return [("database", database_opts), ("api_database", api_database_opts)]
