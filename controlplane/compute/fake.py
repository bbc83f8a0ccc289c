"""A fake hypervisor, Nova's ``fake.FakeDriver`` in spirit.

It keeps instances in memory, presents ``[fake_driver] host_count`` nodes
of ``vcpus``/``memory_mb``/``local_gb`` each, and fails on request so that
reschedules can be tested:

* ``fail_spawn_hosts``: every spawn on these nodes/hosts fails;
* ``fail_spawn_images``: every spawn of these image ids fails;
* ``spawn_time``: seconds a spawn takes.

Node names: ``<host>`` for the first, ``<host>-1`` ... ``<host>-(N-1)``
for the others. Each node is a separate host for the scheduler (its own
``compute_nodes`` row, ``services`` row and ``compute.<node>`` queue).
"""
import json
import logging
import threading
import time

from controlplane.compute import states
from controlplane.compute.driver import ComputeDriver, InstanceSpawnError
from controlplane.conf import CONF

LOG = logging.getLogger(__name__)


def node_names(host, host_count):
    """``[host, host-1, ..., host-(N-1)]``."""
    return [host] + ["%s-%d" % (host, i) for i in range(1, host_count)]


class FakeDriver(ComputeDriver):
    """In-memory driver; thread-safe.

    :param host: base host name (default ``CONF.host``).
    :param conf: the config object (default ``CONF``), read at each call
        so tests may override options.
    """

    def __init__(self, host=None, conf=None):
        self.conf = conf or CONF
        self.host = host or self.conf.host
        self._lock = threading.Lock()
        #: instance uuid -> {"power_state", "node", "image"}
        self.instances = {}

    @property
    def _opts(self):
        return self.conf.fake_driver

    def init_host(self, host, instances):
        """Re-adopt the instances the database places here (the fake
        hypervisor lost them when the process stopped): active ones run,
        stopped ones are shut down."""
        with self._lock:
            for inst in instances:
                if inst.get("vm_state") == states.ACTIVE:
                    power = states.RUNNING
                elif inst.get("vm_state") == states.STOPPED:
                    power = states.SHUTDOWN
                else:
                    continue
                self.instances.setdefault(inst["uuid"], {
                    "power_state": power, "node": inst.get("node"),
                    "image": inst.get("image_ref")})

    def get_available_nodes(self):
        return node_names(self.host, self._opts.host_count)

    def get_available_resource(self, nodename):
        opts = self._opts
        return {
            "hypervisor_hostname": nodename,
            "vcpus": opts.vcpus,
            "memory_mb": opts.memory_mb,
            "local_gb": opts.local_gb,
            "hypervisor_type": opts.hypervisor_type,
            "hypervisor_version": 1000,
            "cpu_info": json.dumps({"arch": "x86_64", "model": "fake",
                                    "topology": {"sockets": 1, "cores": opts.vcpus,
                                                 "threads": 1}}),
            "supported_instances": [["x86_64", opts.hypervisor_type, "hvm"]],
            "stats": dict(opts.capabilities or {}),
        }

    def _should_fail(self, instance, image_meta):
        opts = self._opts
        fail_hosts = set(opts.fail_spawn_hosts or [])
        if instance.get("node") in fail_hosts or instance.get("host") in fail_hosts:
            return "spawn fails on host %s (fail_spawn_hosts)" % (
                instance.get("node") or instance.get("host"))
        image_id = (image_meta or {}).get("id") or instance.get("image_ref")
        if image_id and image_id in set(opts.fail_spawn_images or []):
            return "spawn of image %s fails (fail_spawn_images)" % image_id
        return None

    def spawn(self, ctxt, instance, image_meta):
        """Pretend to boot: sleep ``spawn_time`` then mark it running.
        :raises InstanceSpawnError: per the failure-injection options."""
        if self._opts.spawn_time:
            time.sleep(self._opts.spawn_time)
        reason = self._should_fail(instance, image_meta)
        if reason:
            raise InstanceSpawnError("Fake driver: %s" % reason)
        with self._lock:
            self.instances[instance["uuid"]] = {
                "power_state": states.RUNNING, "node": instance.get("node"),
                "image": (image_meta or {}).get("id") or instance.get("image_ref")}
        LOG.info("fake driver spawned instance %s on %s", instance["uuid"],
                 instance.get("node"))

    def destroy(self, ctxt, instance):
        with self._lock:
            self.instances.pop(instance["uuid"], None)

    def _set_power(self, instance, power):
        with self._lock:
            entry = self.instances.setdefault(instance["uuid"], {
                "node": instance.get("node"), "image": instance.get("image_ref")})
            entry["power_state"] = power

    def power_off(self, instance):
        self._set_power(instance, states.SHUTDOWN)

    def power_on(self, ctxt, instance):
        self._set_power(instance, states.RUNNING)

    def reboot(self, ctxt, instance, reboot_type):
        if reboot_type not in ("SOFT", "HARD"):
            raise ValueError("reboot_type must be SOFT or HARD")
        self._set_power(instance, states.RUNNING)

    def get_info(self, instance):
        with self._lock:
            entry = self.instances.get(instance["uuid"])
        return entry["power_state"] if entry else states.NOSTATE

    def list_instance_uuids(self):
        with self._lock:
            return list(self.instances)

    def get_volume_connector(self, instance):
        node = instance.get("node") or self.host
        return {"host": node, "ip": "127.0.0.1", "initiator": "iqn.2026-01.fake:%s" % node,
                "platform": "x86_64", "os_type": "linux", "multipath": False}

    def attach_volume(self, ctxt, connection_info, instance, mountpoint):
        """Record the volume in the instance's ``volumes`` {mountpoint: info}."""
        with self._lock:
            entry = self.instances.setdefault(instance["uuid"], {
                "power_state": states.RUNNING, "node": instance.get("node"),
                "image": instance.get("image_ref")})
            entry.setdefault("volumes", {})[mountpoint] = connection_info
        LOG.info("fake driver attached %s to %s at %s",
                 (connection_info or {}).get("data", {}).get("volume_id"),
                 instance["uuid"], mountpoint)

    def detach_volume(self, ctxt, connection_info, instance, mountpoint):
        with self._lock:
            entry = self.instances.get(instance["uuid"])
            if entry is not None:
                entry.get("volumes", {}).pop(mountpoint, None)
