"""[DEFAULT] options: identity of this host, messaging, logging."""
import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt("host", default=socket.gethostname(),
               help="Name of this host as the services and the scheduler see it."),
    cfg.StrOpt("transport_url", default="rabbit://guest:guest@127.0.0.1:5672/",
               secret=True,
               help="RabbitMQ URL, several hosts separated by commas: "
                    "rabbit://user:pass@h1:5672,user:pass@h2:5672/vhost"),
    cfg.IntOpt("rpc_response_timeout", default=60, min=1,
               help="Seconds an RPC call waits for its reply."),
    cfg.IntOpt("rpc_heartbeat", default=30, min=0,
               help="AMQP heartbeat interval in seconds (0 disables)."),
    cfg.IntOpt("rpc_tcp_user_timeout", default=5, min=0,
               help="Seconds sent AMQP data may stay unacknowledged by the broker's "
                    "host before the connection counts as dead (TCP_USER_TIMEOUT; "
                    "also bounds TCP keepalive probing of an idle connection). A "
                    "broker cut off by a partition then fails the publish within "
                    "this time and it is retried on another host. 0 keeps the "
                    "kernel's default (about 15 minutes)."),
    cfg.FloatOpt("rpc_connect_timeout", default=3.0, min=0.5,
                 help="Seconds the TCP connect to one broker host may take before "
                      "the next host of transport_url is tried. A host cut off by a "
                      "partition drops the SYN, so every reconnect that tries it "
                      "first waits this long; the AMQP handshake after the connect "
                      "has its own, longer bound (10 s)."),
    cfg.IntOpt("executor_thread_pool_size", default=16, min=1,
               help="Threads an RPC server runs handlers in."),
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
    cfg.StrOpt("log_file", help="Log to this file instead of stderr."),
    cfg.IntOpt("report_interval", default=10, min=1,
               help="Seconds between service heartbeats (services.last_seen_up)."),
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="Seconds after the last heartbeat at which a service counts as down."),
    cfg.FloatOpt("cpu_allocation_ratio", default=16.0, min=0.0,
                 help="Virtual CPUs per physical CPU the scheduler may place."),
    cfg.FloatOpt("ram_allocation_ratio", default=1.5, min=0.0,
                 help="Virtual RAM to physical RAM ratio."),
    cfg.FloatOpt("disk_allocation_ratio", default=1.0, min=0.0,
                 help="Virtual disk to physical disk ratio."),
    cfg.IntOpt("reserved_host_memory_mb", default=512, min=0,
               help="RAM kept back for the host, in MiB."),
    cfg.IntOpt("reserved_host_disk_mb", default=0, min=0,
               help="Disk kept back for the host, in MiB."),
    cfg.IntOpt("reserved_host_cpus", default=0, min=0,
               help="Physical CPUs kept back for the host."),
    cfg.StrOpt("default_availability_zone", default="nova",
               help="Availability zone of hosts that belong to no zone aggregate."),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return [("DEFAULT", opts)]
