"""The hypervisor driver interface of the compute service.

Follows the subset of Nova's ``nova.virt.driver.ComputeDriver`` that the
build, power and delete paths use. ``instance`` arguments are instance
dicts as :mod:`controlplane.db.instances` returns them (``uuid``,
``host``, ``node``, ``image_ref``, ``flavor``, ...). Errors are raised as
:class:`InstanceSpawnError` / :class:`DriverError`; the manager turns them
into a fault and a reschedule or ERROR.
"""
import importlib


class DriverError(Exception):
    """A hypervisor operation failed."""


class InstanceSpawnError(DriverError):
    """Spawning the instance failed (the build may be rescheduled)."""


class ComputeDriver:
    """Base class of hypervisor drivers; every method is abstract."""

    def init_host(self, host, instances):
        """Called once at service start, before any RPC is consumed.

        :param host: the service's ``CONF.host``.
        :param instances: instance dicts the database says run on this
            service's nodes, so a driver can re-adopt them.
        """

    def get_available_nodes(self):
        """Names of the nodes (hypervisor_hostname) this driver presents.
        :returns: list of str."""
        raise NotImplementedError()

    def get_available_resource(self, nodename):
        """Totals of one node for the resource tracker.

        :returns: dict with ``vcpus``, ``memory_mb`` (MiB), ``local_gb``
            (GiB), ``hypervisor_type``, ``hypervisor_version`` (int),
            ``hypervisor_hostname``, ``cpu_info`` (JSON text),
            ``supported_instances`` (list) and ``stats`` (dict of
            capabilities).
        """
        raise NotImplementedError()

    def spawn(self, ctxt, instance, image_meta):
        """Create and boot the instance; returns when it runs.

        :param image_meta: dict with ``id`` and ``properties``.
        :raises InstanceSpawnError: the build failed on this host.
        """
        raise NotImplementedError()

    def destroy(self, ctxt, instance):
        """Power off and remove the instance. Idempotent: destroying an
        unknown instance is not an error."""
        raise NotImplementedError()

    def power_off(self, instance):
        """Stop the instance (idempotent)."""
        raise NotImplementedError()

    def power_on(self, ctxt, instance):
        """Start a stopped instance (idempotent)."""
        raise NotImplementedError()

    def reboot(self, ctxt, instance, reboot_type):
        """Reboot; ``reboot_type`` is ``"SOFT"`` or ``"HARD"``."""
        raise NotImplementedError()

    def get_info(self, instance):
        """The instance's power_state (one of
        :mod:`controlplane.compute.states` ``RUNNING``, ``SHUTDOWN``,
        ``NOSTATE``, ...)."""
        raise NotImplementedError()

    def get_volume_connector(self, instance):
        """How the host reaches block storage (os-brick's connector
        properties): dict with ``host``, ``ip``, ``initiator``, ``platform``,
        ``os_type``, ``multipath``."""
        raise NotImplementedError()

    def attach_volume(self, ctxt, connection_info, instance, mountpoint):
        """Connect a volume to the instance at ``mountpoint`` (``/dev/vdb``).

        :param connection_info: what the volume service's
            ``initialize_connection`` returned (``driver_volume_type``, ``data``).
        :raises DriverError: the attach failed (the caller rolls back).
        """
        raise NotImplementedError()

    def detach_volume(self, ctxt, connection_info, instance, mountpoint):
        """Disconnect a volume (idempotent: an unknown one is not an error)."""
        raise NotImplementedError()


def load_driver(name, host=None):
    """The driver of ``[compute] compute_driver``: ``"fake"`` or a dotted
    ``module.Class`` path. :returns: a :class:`ComputeDriver` instance."""
    if name in ("fake", "fake.FakeDriver"):
        from controlplane.compute.fake import FakeDriver
        return FakeDriver(host=host)
    module_name, _, cls_name = name.rpartition(".")
    if not module_name:
        raise ValueError("unknown compute_driver %r" % name)
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls(host=host)


__all__ = ["ComputeDriver", "DriverError", "InstanceSpawnError", "load_driver"]
