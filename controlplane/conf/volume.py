"""Block-storage options (names as in Cinder).

``[DEFAULT]``: ``enabled_backends`` (the backend sections one
``controlplane-volume`` process serves), ``storage_availability_zone``,
``default_volume_type``, the quota defaults (``quota_volumes`` 10,
``quota_snapshots`` 10, ``quota_gigabytes`` 1000, ``per_volume_size_limit``
-1, ``quota_backups`` 10, ``quota_backup_gigabytes`` 1000) and
``image_conversion_dir``.

``[<backend>]`` (one section per name in ``enabled_backends``, registered
by :func:`backend_conf`): ``volume_driver`` (``file`` or ``fake``, or a
dotted class path), ``volume_backend_name``, ``backend_availability_zone``,
``max_over_subscription_ratio``, ``reserved_percentage``, ``file_share_path``,
``file_volume_format``, ``file_sparsed_volumes``, ``fake_capacity_gb``,
``fake_pools``, ``fake_thin_provisioning``.

``[volume_scheduler]``: ``scheduler_default_filters``,
``scheduler_default_weighers``, ``scheduler_max_attempts`` (3),
``capacity_weight_multiplier`` (1.0), ``allocated_capacity_weight_multiplier``
(-1.0), ``pool_state_refresh_interval``.
"""
from oslo_config import cfg

default_opts = [
    cfg.ListOpt("enabled_backends", default=[],
                help="Backend sections served by controlplane-volume on this host."),
    cfg.StrOpt("storage_availability_zone", default="nova",
               help="Availability zone of this volume service's backends (a backend's "
                    "backend_availability_zone wins)."),
    cfg.StrOpt("default_volume_type", default="__DEFAULT__",
               help="Volume type of volumes created without one."),
    cfg.IntOpt("quota_volumes", default=10, min=-1, help="Volumes per project; -1 unlimited."),
    cfg.IntOpt("quota_snapshots", default=10, min=-1,
               help="Snapshots per project; -1 unlimited."),
    cfg.IntOpt("quota_gigabytes", default=1000, min=-1,
               help="GiB of volumes and snapshots per project; -1 unlimited."),
    cfg.IntOpt("per_volume_size_limit", default=-1, min=-1,
               help="Largest volume in GiB (quota per_volume_gigabytes); -1 unlimited."),
    cfg.IntOpt("quota_backups", default=10, min=-1, help="Volume backups per project."),
    cfg.IntOpt("quota_backup_gigabytes", default=1000, min=-1,
               help="GiB of backups per project."),
    cfg.BoolOpt("no_snapshot_gb_quota", default=False,
                help="Do not count snapshots in the gigabytes quota."),
    cfg.StrOpt("image_conversion_dir", default="/var/lib/controlplane/conversion",
               help="Scratch directory for image downloads and conversions."),
    cfg.IntOpt("volume_capabilities_interval", default=10, min=1,
               help="Seconds between capability reports of each backend."),
    cfg.IntOpt("volume_stale_delete_seconds", default=60, min=1,
               help="Seconds a volume of a backend may stay in status deleting before "
                    "the volume service completes the delete itself (its delete_volume "
                    "message was lost or its handler failed)."),
    cfg.IntOpt("volume_stale_delete_interval", default=30, min=1,
               help="Seconds between looks for volumes stuck in deleting."),
]

backend_opts = [
    cfg.StrOpt("volume_driver", default="file",
               help="'file' (volumes as files on a mounted share, Cinder's NFS driver "
                    "semantics), 'fake' (capacity only) or a dotted class path."),
    cfg.StrOpt("volume_backend_name",
               help="Name volume types select with the extra spec volume_backend_name "
                    "(default: the section name)."),
    cfg.StrOpt("backend_availability_zone",
               help="Availability zone of this backend (default storage_availability_zone)."),
    cfg.FloatOpt("max_over_subscription_ratio", default=20.0, min=1.0,
                 help="Provisioned capacity may reach total capacity times this ratio "
                      "on a thin backend."),
    cfg.IntOpt("reserved_percentage", default=0, min=0, max=100,
               help="Percentage of total capacity kept free."),
    cfg.StrOpt("file_share_path", default="/var/lib/controlplane/volumes",
               help="file driver: directory of the mounted share holding the volumes."),
    cfg.StrOpt("file_volume_format", default="raw", choices=["raw", "qcow2"],
               help="file driver: format of new volume files."),
    cfg.BoolOpt("file_sparsed_volumes", default=True,
                help="file driver: create sparse files (thin) instead of preallocated ones."),
    cfg.StrOpt("file_pool_name", default="share",
               help="file driver: name of the share's pool."),
    cfg.FloatOpt("fake_capacity_gb", default=1000.0, min=0.0,
                 help="fake driver: total capacity of each pool in GiB."),
    cfg.IntOpt("fake_pools", default=1, min=1, help="fake driver: pools of this backend."),
    cfg.BoolOpt("fake_thin_provisioning", default=True,
                help="fake driver: report thin provisioning support."),
    cfg.StrOpt("fake_fail_create", default="",
               help="fake driver (tests): create_volume fails when the volume's "
                    "display_name contains this text (empty: never)."),
]

scheduler_opts = [
    cfg.ListOpt("scheduler_default_filters",
                default=["AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter"],
                help="Filters a pool must pass, in this order."),
    cfg.ListOpt("scheduler_default_weighers", default=["CapacityWeigher"],
                help="Weighers (CapacityWeigher, AllocatedCapacityWeigher, ChanceWeigher)."),
    cfg.IntOpt("scheduler_max_attempts", default=3, min=1,
               help="Backends tried for one volume create before it goes to error."),
    cfg.FloatOpt("capacity_weight_multiplier", default=1.0,
                 help="Positive spreads volumes by virtual free capacity, negative stacks."),
    cfg.FloatOpt("allocated_capacity_weight_multiplier", default=-1.0,
                 help="Negative prefers the pools with the least allocated capacity."),
    cfg.FloatOpt("pool_state_refresh_interval", default=1.0, min=0.0,
                 help="Seconds the scheduler reuses pool states before reading volume_pools "
                      "again (claims always hit the database)."),
]


def register_opts(conf):
    conf.register_opts(default_opts)
    conf.register_opts(scheduler_opts, group="volume_scheduler")


def backend_conf(conf, backend):
    """Register the per-backend options in section ``[backend]`` (idempotent)
    and return that group."""
    conf.register_opts(backend_opts, group=backend)
    return conf[backend]


def list_opts():
    """Options for oslo-config-generator (the per-backend options live in
    sections named by ``enabled_backends``; see :data:`backend_opts`)."""
    return [("DEFAULT", default_opts), ("volume_scheduler", scheduler_opts)]
