"""The volume driver interface (Cinder's ``VolumeDriver``, trimmed).

A driver serves one backend (a config section). Volume and snapshot
arguments are the db dicts; methods that create data return a *model
update* dict (e.g. ``{"provider_location": ...}``) or None. Errors are
:class:`controlplane.volume.exception.VolumeDriverError` subclasses.

Capacity report (:meth:`get_pools`): one dict per pool with
``pool_name``, ``total_capacity_gb``, ``free_capacity_gb``,
``thin_provisioning_support``, ``thick_provisioning_support``,
``max_over_subscription_ratio``, ``reserved_percentage`` and any other
capability (``storage_protocol``, ``vendor_name``, ``driver_version``,
``QoS_support``, ``multiattach``); the manager adds
``volume_backend_name`` and ``availability_zone``.
"""


class VolumeDriver:
    """Base class; see the module docstring."""

    #: ``storage_protocol`` reported as a capability
    storage_protocol = "unknown"
    vendor_name = "controlplane"
    driver_version = "1.0"

    def __init__(self, backend, conf, host):
        self.backend = backend
        self.conf = conf
        self.host = host

    def do_setup(self):
        """Prepare the backend (mount checks...). Raises VolumeDriverError."""

    def init_usage(self, volumes):
        """Told the volumes the database places on this backend at start."""

    def get_pools(self):
        raise NotImplementedError

    def common_capabilities(self):
        return {"storage_protocol": self.storage_protocol, "vendor_name": self.vendor_name,
                "driver_version": self.driver_version, "QoS_support": False,
                "multiattach": True,
                "max_over_subscription_ratio": self.conf.max_over_subscription_ratio,
                "reserved_percentage": self.conf.reserved_percentage}

    def pool_of(self, volume):
        """Pool name of a volume (the part after ``#`` of its host)."""
        host = volume.get("host") or ""
        return host.partition("#")[2] or None

    # -- data operations -------------------------------------------------------
    def create_volume(self, volume):
        raise NotImplementedError

    def create_volume_from_snapshot(self, volume, snapshot, src_volume):
        raise NotImplementedError

    def create_cloned_volume(self, volume, src_volume):
        raise NotImplementedError

    def copy_image_to_volume(self, ctxt, volume, image_id):
        """Fill a created volume with the image (``ctxt`` carries the token)."""
        raise NotImplementedError

    def copy_volume_to_image(self, ctxt, volume, image_id, image_meta):
        raise NotImplementedError

    def delete_volume(self, volume):
        """Remove the volume's data; a missing volume is not an error."""
        raise NotImplementedError

    def extend_volume(self, volume, new_size):
        raise NotImplementedError

    def create_snapshot(self, snapshot, volume):
        raise NotImplementedError

    def delete_snapshot(self, snapshot, volume):
        raise NotImplementedError

    # -- export ------------------------------------------------------------------
    def initialize_connection(self, volume, connector):
        """connection_info ``{"driver_volume_type", "data"}``."""
        raise NotImplementedError

    def terminate_connection(self, volume, connector, force=False):
        """Stop exporting to ``connector``."""
