"""The ``file`` driver: volumes are files on a mounted share, with the
semantics of Cinder's NFS driver (``cinder.volume.drivers.nfs`` on
``remotefs``).

* A volume is ``<share>/volume-<id>``: a sparse raw file (``truncate``
  semantics through ``qemu-img create``) or a qcow2 image
  (``file_volume_format``), thin by nature; ``file_sparsed_volumes=False``
  preallocates (thick).
* Snapshots are qcow2 overlays, as Cinder's remotefs snapshots: taking
  snapshot S freezes the current active file and creates
  ``volume-<id>.<S>``, a qcow2 overlay backed by it, which becomes the
  active file; ``<share>/volume-<id>.info`` (JSON) records the active file
  and, per snapshot, the overlay created with it. The snapshot's data is
  that overlay's backing file. Deleting S commits its overlay into the
  backing file (``qemu-img commit``) and re-points the next overlay at
  the backing file (``qemu-img rebase -u``); when the overlay is the
  active file, the backing file becomes active.
* Volume from snapshot and clone: ``qemu-img convert`` of the snapshot's
  data / the active chain into a new file of the configured format, grown
  to the requested size. Extend: ``qemu-img resize`` of the active file.
* Volume from image / upload to image: see :mod:`..image_utils`.
* Capacity: ``statvfs`` of the share (total and available bytes in GiB);
  ``thin_provisioning_support`` = ``file_sparsed_volumes``.
* Connection info: ``driver_volume_type`` ``file`` with the active file's
  ``device_path`` and ``format`` (the share is mounted on every host).
"""
import contextlib
import json
import logging
import os

from controlplane.volume import exception as vexc
from controlplane.volume import image_utils
from controlplane.volume.drivers.base import VolumeDriver

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
_DISK_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi", "vhd": "vpc",
                 "vhdx": "vhdx"}


class FileDriver(VolumeDriver):
    storage_protocol = "file"
    driver_version = "1.0"

    @property
    def share(self):
        return self.conf.file_share_path

    def _path(self, name):
        return os.path.join(self.share, name)

    @staticmethod
    def base_name(volume_id):
        return "volume-%s" % volume_id

    def _info_path(self, volume_id):
        return self._path(self.base_name(volume_id) + ".info")

    def _read_info(self, volume_id):
        try:
            with open(self._info_path(volume_id)) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"active": self.base_name(volume_id)}

    def _write_info(self, volume_id, info):
        path = self._info_path(volume_id)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def active_path(self, volume):
        """Full path of the volume's active file."""
        return self._path(self._read_info(volume["id"])["active"])

    def _fmt(self, path):
        return image_utils.info(path)["format"]

    # -- setup and capacity -------------------------------------------------------
    def do_setup(self):
        if not os.path.isdir(self.share):
            LOG.warning("share %s of backend %s does not exist; creating it", self.share,
                        self.backend)
            os.makedirs(self.share, exist_ok=True)

    def get_pools(self):
        st = os.statvfs(self.share)
        caps = self.common_capabilities()
        caps.update(pool_name=self.conf.file_pool_name,
                    total_capacity_gb=round(st.f_blocks * st.f_frsize / GiB, 2),
                    free_capacity_gb=round(st.f_bavail * st.f_frsize / GiB, 2),
                    thin_provisioning_support=bool(self.conf.file_sparsed_volumes),
                    thick_provisioning_support=not self.conf.file_sparsed_volumes,
                    sparse_copy_volume=True, export=self.share)
        return [caps]

    # -- volumes ------------------------------------------------------------------------
    def _new_file(self, volume):
        path = self._path(self.base_name(volume["id"]))
        if os.path.exists(path):
            # a redelivered create: start again from scratch
            self.delete_volume(volume)
        return path

    def _location(self):
        return {"provider_location": self.share}

    def create_volume(self, volume):
        path = self._new_file(volume)
        image_utils.create(path, volume["size"], fmt=self.conf.file_volume_format,
                           preallocate=not self.conf.file_sparsed_volumes)
        LOG.info("created %s (%s GiB, %s)", path, volume["size"], self.conf.file_volume_format)
        return self._location()

    def _copy_from(self, src, volume):
        path = self._new_file(volume)
        image_utils.convert(src, path, self.conf.file_volume_format,
                            sparse=self.conf.file_sparsed_volumes)
        if int(image_utils.info(path)["virtual-size"]) < int(volume["size"]) * GiB:
            image_utils.resize(path, volume["size"], fmt=self.conf.file_volume_format)
        return self._location()

    def snapshot_data_path(self, snapshot, src_volume):
        """The file holding the snapshot's point-in-time data (the backing
        file of the overlay taken with it)."""
        info = self._read_info(src_volume["id"])
        overlay = info.get(snapshot["id"])
        if overlay is None:
            raise vexc.VolumeDriverError(reason="snapshot %s has no file" % snapshot["id"])
        backing = image_utils.info(self._path(overlay)).get("backing-filename")
        if not backing:
            raise vexc.VolumeDriverError(reason="overlay %s has no backing file" % overlay)
        return self._path(os.path.basename(backing))

    def create_volume_from_snapshot(self, volume, snapshot, src_volume):
        return self._copy_from(self.snapshot_data_path(snapshot, src_volume), volume)

    def create_cloned_volume(self, volume, src_volume):
        return self._copy_from(self.active_path(src_volume), volume)

    def copy_image_to_volume(self, ctxt, volume, image_id):
        path = self._path(self.base_name(volume["id"]))
        tmp = path + ".download"
        try:
            image_utils.fetch_to_volume_format(ctxt, image_id, tmp,
                                               self.conf.file_volume_format, volume["size"])
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def copy_volume_to_image(self, ctxt, volume, image_id, image_meta):
        fmt = _DISK_FORMATS.get(image_meta.get("disk_format") or "raw")
        if fmt is None:
            raise vexc.VolumeDriverError(reason="unsupported disk_format %s" % (
                image_meta.get("disk_format")))
        with image_utils.scratch_file("." + fmt) as tmp:
            image_utils.convert(self.active_path(volume), tmp, fmt)
            image_utils.upload_image(ctxt, image_id, tmp)

    def delete_volume(self, volume):
        prefix = self.base_name(volume["id"])
        try:
            names = os.listdir(self.share)
        except FileNotFoundError:
            return
        for name in names:
            if name == prefix or name.startswith(prefix + "."):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._path(name))
        LOG.info("deleted the files of volume %s", volume["id"])

    def extend_volume(self, volume, new_size):
        path = self.active_path(volume)
        image_utils.resize(path, new_size, fmt=self._fmt(path))

    # -- snapshots ----------------------------------------------------------------
    def create_snapshot(self, snapshot, volume):
        info = self._read_info(volume["id"])
        if snapshot["id"] in info:
            return None   # redelivered: the overlay exists
        active = info["active"]
        overlay = "%s.%s" % (self.base_name(volume["id"]), snapshot["id"])
        image_utils.create(self._path(overlay), None, fmt="qcow2", backing=active,
                           backing_fmt=self._fmt(self._path(active)))
        info[snapshot["id"]] = overlay
        info["active"] = overlay
        self._write_info(volume["id"], info)
        LOG.info("snapshot %s of volume %s: %s now active over %s", snapshot["id"],
                 volume["id"], overlay, active)
        return {"provider_location": overlay}

    def _backing(self, name):
        b = image_utils.info(self._path(name)).get("backing-filename")
        return os.path.basename(b) if b else None

    def delete_snapshot(self, snapshot, volume):
        info = self._read_info(volume["id"])
        overlay = info.get(snapshot["id"])
        if overlay is None or not os.path.exists(self._path(overlay)):
            info.pop(snapshot["id"], None)
            if overlay is not None or os.path.exists(self._info_path(volume["id"])):
                self._write_info(volume["id"], info)
            return
        base = self._backing(overlay)
        if info["active"] == overlay:
            image_utils.commit(self._path(overlay))
            info["active"] = base
        else:
            higher = None
            for key, name in info.items():
                if key != "active" and name != overlay and self._backing(name) == overlay:
                    higher = name
                    break
            if higher is None:
                raise vexc.VolumeDriverError(reason="no overlay above %s" % overlay)
            image_utils.commit(self._path(overlay))
            image_utils.rebase_unsafe(self._path(higher), base, self._fmt(self._path(base)))
        del info[snapshot["id"]]
        self._write_info(volume["id"], info)
        os.unlink(self._path(overlay))
        LOG.info("deleted snapshot %s of volume %s (merged %s into %s)", snapshot["id"],
                 volume["id"], overlay, base)

    # -- export ----------------------------------------------------------------------
    def initialize_connection(self, volume, connector):
        path = self.active_path(volume)
        return {"driver_volume_type": "file",
                "data": {"export": self.share, "name": os.path.basename(path),
                         "device_path": path, "format": self._fmt(path),
                         "access_mode": "rw", "volume_id": volume["id"]}}

    def terminate_connection(self, volume, connector, force=False):
        return None
