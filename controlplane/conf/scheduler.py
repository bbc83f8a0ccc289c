"""[scheduler] and [filter_scheduler] options (names as in Nova)."""
from oslo_config import cfg

scheduler_opts = [
    cfg.IntOpt("max_attempts", default=3, min=1,
               help="Hosts tried for one build: the selected one plus alternates."),
    cfg.IntOpt("host_state_refresh_interval", default=2, min=0,
               help="Seconds the scheduler reuses its cached host states before "
                    "reading compute_nodes again (claims always hit the database)."),
]

filter_scheduler_opts = [
    cfg.ListOpt("enabled_filters", default=[
        "ComputeFilter", "AvailabilityZoneFilter", "RamFilter", "DiskFilter",
        "CoreFilter", "AggregateInstanceExtraSpecsFilter",
        "ComputeCapabilitiesFilter", "ImagePropertiesFilter", "JsonFilter",
        "SameHostFilter", "DifferentHostFilter",
        "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter"],
        help="Filters run in this order; a host must pass all of them."),
    cfg.ListOpt("weight_classes", default=["RAMWeigher", "DiskWeigher", "CPUWeigher"],
                help="Weighers whose normalised, multiplied weights are summed."),
    cfg.FloatOpt("ram_weight_multiplier", default=1.0,
                 help="Positive spreads by free RAM, negative stacks."),
    cfg.FloatOpt("disk_weight_multiplier", default=1.0,
                 help="Positive spreads by free disk, negative stacks."),
    cfg.FloatOpt("cpu_weight_multiplier", default=1.0,
                 help="Positive spreads by free vCPUs, negative stacks."),
    cfg.IntOpt("host_subset_size", default=1, min=1,
               help="Pick at random among this many best-weighed hosts."),
]


def register_opts(conf):
    conf.register_opts(scheduler_opts, group="scheduler")
    conf.register_opts(filter_scheduler_opts, group="filter_scheduler")


def list_opts():
    return [("scheduler", scheduler_opts), ("filter_scheduler", filter_scheduler_opts)]
