"""[compute] and [fake_driver] options of controlplane-compute."""
from oslo_config import cfg

compute_opts = [
    cfg.StrOpt("compute_driver", default="fake", help="Hypervisor driver: fake."),
    cfg.IntOpt("resource_update_interval", default=30, min=1,
               help="Seconds between resource reports to compute_nodes."),
    cfg.IntOpt("build_timeout", default=0, min=0,
               help="Seconds a build may take before it is put in ERROR (0: no limit)."),
    cfg.IntOpt("stale_delete_seconds", default=60, min=1,
               help="Seconds an instance of this host may stay in task_state deleting "
                    "before the compute completes the delete itself (its "
                    "terminate_instance message was lost or its handler failed)."),
    cfg.IntOpt("stale_delete_interval", default=30, min=1,
               help="Seconds between looks for instances stuck in deleting."),
]

fake_driver_opts = [
    cfg.IntOpt("host_count", default=1, min=1,
               help="Compute hosts this one process presents (for scale tests): "
                    "host, host-1, ... host-(N-1)."),
    cfg.IntOpt("vcpus", default=16, min=1, help="vCPUs of each fake host."),
    cfg.IntOpt("memory_mb", default=65536, min=1, help="RAM of each fake host, MiB."),
    cfg.IntOpt("local_gb", default=1024, min=1, help="Disk of each fake host, GiB."),
    cfg.StrOpt("hypervisor_type", default="fake", help="Reported hypervisor_type."),
    cfg.DictOpt("capabilities", default={},
                help="Extra capabilities reported in compute_nodes.stats, "
                     "matched by ComputeCapabilitiesFilter."),
    cfg.FloatOpt("spawn_time", default=0.0, min=0.0,
                 help="Seconds a spawn pretends to take."),
    cfg.ListOpt("fail_spawn_images", default=[],
                help="Image ids whose spawn fails (tests reschedule)."),
    cfg.ListOpt("fail_spawn_hosts", default=[],
                help="Hosts on which every spawn fails (tests reschedule)."),
]


def register_opts(conf):
    conf.register_opts(compute_opts, group="compute")
    conf.register_opts(fake_driver_opts, group="fake_driver")


def list_opts():
    return [("compute", compute_opts), ("fake_driver", fake_driver_opts)]
