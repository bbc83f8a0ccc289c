"""The ``fake`` driver: capacity only, no data (scale tests, benchmarks).

Each backend presents ``fake_pools`` pools (``pool0``...) of
``fake_capacity_gb`` GiB; free capacity is total minus the sizes of the
volumes this backend holds (thick accounting), and
``thin_provisioning_support`` is ``fake_thin_provisioning``. Many fake
backends can run in one ``controlplane-volume`` process. Snapshots,
clones, images, extend and connections succeed without touching any
data. ``fake_fail_create`` makes ``create_volume`` fail for volumes whose
name contains that text (retry tests).
"""
import threading

from controlplane.volume import exception as vexc
from controlplane.volume.drivers.base import VolumeDriver


class FakeDriver(VolumeDriver):
    storage_protocol = "fake"

    def __init__(self, backend, conf, host):
        super().__init__(backend, conf, host)
        self._lock = threading.Lock()
        self._sizes = {}     # volume id -> (pool, size)

    def _pools(self):
        return ["pool%d" % i for i in range(self.conf.fake_pools)]

    def init_usage(self, volumes):
        with self._lock:
            for v in volumes:
                self._sizes[v["id"]] = (self.pool_of(v) or "pool0", int(v["size"]))

    def get_pools(self):
        used = {}
        with self._lock:
            for pool, size in self._sizes.values():
                used[pool] = used.get(pool, 0) + size
        out = []
        for pool in self._pools():
            caps = self.common_capabilities()
            total = float(self.conf.fake_capacity_gb)
            caps.update(pool_name=pool, total_capacity_gb=total,
                        free_capacity_gb=max(0.0, total - used.get(pool, 0)),
                        thin_provisioning_support=bool(self.conf.fake_thin_provisioning),
                        thick_provisioning_support=True)
            out.append(caps)
        return out

    def _add(self, volume, size=None):
        with self._lock:
            self._sizes[volume["id"]] = (self.pool_of(volume) or "pool0",
                                         int(size or volume["size"]))

    def create_volume(self, volume):
        marker = self.conf.fake_fail_create
        if marker and marker in (volume.get("display_name") or ""):
            raise vexc.VolumeBackendAPIException(data="fake failure on %s" % self.backend)
        self._add(volume)
        return {"provider_location": "fake://%s/%s" % (self.backend, volume["id"])}

    def create_volume_from_snapshot(self, volume, snapshot, src_volume):
        return self.create_volume(volume)

    def create_cloned_volume(self, volume, src_volume):
        return self.create_volume(volume)

    def copy_image_to_volume(self, ctxt, volume, image_id):
        return None

    def copy_volume_to_image(self, ctxt, volume, image_id, image_meta):
        return None

    def delete_volume(self, volume):
        with self._lock:
            self._sizes.pop(volume["id"], None)

    def extend_volume(self, volume, new_size):
        self._add(volume, new_size)

    def create_snapshot(self, snapshot, volume):
        return {"provider_location": "fake-snapshot"}

    def delete_snapshot(self, snapshot, volume):
        return None

    def initialize_connection(self, volume, connector):
        return {"driver_volume_type": "fake",
                "data": {"volume_id": volume["id"], "access_mode": "rw"}}
