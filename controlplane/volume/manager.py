"""The volume manager: one per backend of ``controlplane-volume``
(Cinder's ``VolumeManager``), RPC endpoint of ``volume.<host>@<backend>``.

Every handler is idempotent (a redelivered message finds the volume
already past the expected status and does nothing) and moves statuses
only by compare-and-swap (:mod:`controlplane.volume.states`):

* ``create_volume``: ``creating`` (``downloading`` while an image is
  copied) → ``available``; on a driver failure the files are cleaned up,
  the claim is released and — when the request carries a retry dict, the
  volume has no source (clones and volumes from snapshots stay on their
  source's backend) and the error is not an image error — the volume goes
  back to the scheduler with the backend added to ``retry["backends"]``
  (Cinder's reschedule); else ``error``.
* ``delete_volume``: ``deleting`` → soft-deleted (claim released); a
  driver error → ``error_deleting``.
* ``extend_volume``: ``extending`` → grows the claim on the same pool
  (no capacity → back to the previous status, Cinder's behaviour when
  the scheduler refuses an extend), the file, then ``size = new_size``;
  a driver error → ``error_extending``.
* ``create_snapshot`` / ``delete_snapshot``: snapshot ``creating`` →
  ``available`` / ``deleting`` → soft-deleted; errors → ``error`` /
  ``error_deleting``.
* ``upload_to_image``: ``uploading`` → the previous status; the Glance
  image is deleted when the upload fails.
* ``initialize_connection`` / ``terminate_connection`` / ``attach_volume``
  / ``detach_volume``: calls from the compute side of an attach.

Periodic: :meth:`report_capabilities` writes the backend's pools to
``volume_pools`` every ``volume_capabilities_interval`` seconds;
:meth:`complete_stale_deletes` finishes, every
``volume_stale_delete_interval`` seconds, the deletes of volumes left in
``deleting`` longer than ``volume_stale_delete_seconds`` (the RPC server
acks a message whose handler failed, and a cast can be lost).
"""
import logging
import threading
import weakref

from controlplane import stale_deletes
from controlplane.conf import CONF
from controlplane.conf import volume as volume_conf
from controlplane.db import engine as db_engine
from controlplane.db import snapshots as db_snapshots
from controlplane.db import volume_pools as db_pools
from controlplane.db import volume_types as db_types
from controlplane.db import volumes as db_volumes
from controlplane.db.services import utcnow
from controlplane.volume import exception as vexc
from controlplane.volume import image_utils
from controlplane.volume import states
from controlplane.volume.drivers import load_driver
from controlplane.volume.scheduler import capacity

LOG = logging.getLogger(__name__)

#: errors after which a create is not rescheduled (Cinder's no_reschedule_types)
NO_RESCHEDULE = (vexc.ImageCopyFailure, vexc.ImageUnacceptable)


class VolumeManager:
    """Manager of backend ``backend`` on ``host``.

    :param engine: API database engine (default ``[api_database]``).
    :param driver: a driver instance (default from ``[backend] volume_driver``).
    :param scheduler_api: client of the volume scheduler (reschedules).
    """

    def __init__(self, backend, host=None, engine=None, driver=None, scheduler_api=None):
        self.backend = backend
        self.host = host or CONF.host
        self.backend_host = "%s@%s" % (self.host, backend)
        self.conf = volume_conf.backend_conf(CONF, backend)
        self.volume_backend_name = self.conf.volume_backend_name or backend
        self.availability_zone = (self.conf.backend_availability_zone
                                  or CONF.storage_availability_zone)
        self._engine = engine
        self.driver = driver or load_driver(self.conf.volume_driver, backend, self.conf,
                                            self.host)
        self._scheduler_api = scheduler_api
        self._locks = weakref.WeakValueDictionary()
        self._locks_lock = threading.Lock()

    @property
    def engine(self):
        if self._engine is None:
            self._engine = db_engine.api_engine()
        return self._engine

    @property
    def scheduler_api(self):
        if self._scheduler_api is None:
            from controlplane.volume.scheduler.rpcapi import SchedulerAPI
            self._scheduler_api = SchedulerAPI()
        return self._scheduler_api

    def _lock(self, key):
        """A lock per volume (snapshot files of one volume change together)."""
        with self._locks_lock:
            lock = self._locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._locks[key] = lock
            return lock

    # -- service hooks --------------------------------------------------------------
    def init_host(self):
        """Set up the driver, tell it this backend's volumes, recover
        interrupted work (Cinder's ``init_host``): ``creating`` /
        ``downloading`` → ``error``, ``uploading`` → previous status,
        ``deleting`` → delete again; then report capabilities and drop this
        backend's pools that are no longer reported (and hold nothing)."""
        self.driver.do_setup()
        vols = db_volumes.volumes_on_host(self.engine, self.backend_host)
        self.driver.init_usage(vols)
        for vol in vols:
            try:
                if vol["status"] in (states.CREATING, states.DOWNLOADING):
                    db_volumes.update_volume(self.engine, vol["id"], {"status": states.ERROR},
                                             expected_status=vol["status"])
                elif vol["status"] == states.UPLOADING:
                    db_volumes.update_volume(
                        self.engine, vol["id"],
                        {"status": vol.get("previous_status") or states.AVAILABLE},
                        expected_status=states.UPLOADING)
                elif vol["status"] == states.DELETING:
                    self.delete_volume(None, vol["id"])
            except Exception:  # noqa: BLE001 - recover the others
                LOG.exception("recovery of volume %s failed", vol["id"])
        reported = self.report_capabilities()
        gone = db_pools.delete_pools(self.engine, self.host, self.backend,
                                     keep=[p["pool"] for p in reported])
        if gone:
            LOG.info("pools no longer reported by %s removed: %s", self.backend_host,
                     ", ".join(gone))

    def get_periodic_tasks(self):
        return [(CONF.volume_capabilities_interval, self.report_capabilities),
                (CONF.volume_stale_delete_interval, self.complete_stale_deletes)]

    def complete_stale_deletes(self, ctxt=None):
        """Periodic task: finish the deletes of this backend's volumes left
        in status ``deleting`` for more than ``volume_stale_delete_seconds``
        (by ``updated_at``).

        This is the ``deleting`` recovery of :meth:`init_host` (Nova's
        ``_init_instance`` delete completion, Cinder's ``init_host``), run
        periodically rather than only at service start: our RPC server
        acks a message even when its handler raised, so a ``delete_volume``
        that failed (the database was down) or a cast that was lost would
        otherwise leave the volume in ``deleting`` until the service
        restarts. :meth:`delete_volume` is idempotent and takes the
        volume's lock. One volume's failure does not stop the others.

        :returns: the ids of the volumes whose delete was run.
        """
        return stale_deletes.redo_stale_deletes(
            db_volumes.volumes_on_host(self.engine, self.backend_host),
            state_key="status", id_key="id", seconds=CONF.volume_stale_delete_seconds,
            redo=lambda volume_id: self.delete_volume(None, volume_id), kind="volume")

    def report_capabilities(self):
        """Write this backend's pools to ``volume_pools``."""
        pools = []
        for p in self.driver.get_pools():
            p = dict(p)
            p.setdefault("volume_backend_name", self.volume_backend_name)
            p.setdefault("availability_zone", self.availability_zone)
            pools.append(p)
        return db_pools.report_pools(self.engine, self.host, self.backend, pools)

    # -- RPC: create -----------------------------------------------------------------
    def ping(self, ctxt):
        return "pong"

    def create_volume(self, ctxt, volume_id, host=None, request_spec=None,
                      filter_properties=None, glance_auth=None):
        """Create the data of a scheduled volume (see the module docstring)."""
        request_spec = request_spec or {}
        with self._lock(volume_id):
            try:
                vol = db_volumes.get_volume(self.engine, volume_id)
            except vexc.VolumeNotFound:
                LOG.info("volume %s is gone; releasing its claim", volume_id)
                db_pools.release(self.engine, volume_id)
                return
            if vol["status"] not in (states.CREATING, states.DOWNLOADING):
                LOG.info("volume %s is %s; create already done", volume_id, vol["status"])
                return
            try:
                update = self._create(vol, glance_auth) or {}
            except Exception as exc:  # noqa: BLE001 - every driver error is handled
                LOG.warning("create of volume %s on %s failed: %s", volume_id,
                            vol.get("host"), exc)
                self._create_failed(ctxt, vol, request_spec, filter_properties,
                                    glance_auth, exc)
                return
            values = {"status": states.AVAILABLE, "launched_at": utcnow()}
            if update.get("provider_location"):
                values["provider_location"] = update["provider_location"]
            try:
                db_volumes.update_volume(self.engine, volume_id, values,
                                         expected_status=[states.CREATING,
                                                          states.DOWNLOADING])
            except (vexc.VolumeNotFound, vexc.VolumeInvalidState) as exc:
                LOG.info("volume %s changed during its create (%s)", volume_id, exc)
                return
            LOG.info("volume %s (%s GiB) available on %s", volume_id, vol["size"],
                     vol.get("host"))

    def _create(self, vol, glance_auth):
        if vol.get("snapshot_id"):
            snap = db_snapshots.get_snapshot(self.engine, vol["snapshot_id"])
            src = db_volumes.get_volume(self.engine, snap["volume_id"])
            with self._lock(src["id"]):
                return self.driver.create_volume_from_snapshot(vol, snap, src)
        if vol.get("source_volid"):
            src = db_volumes.get_volume(self.engine, vol["source_volid"])
            with self._lock(src["id"]):
                return self.driver.create_cloned_volume(vol, src)
        if vol.get("image_id"):
            if vol["status"] == states.CREATING:
                db_volumes.update_volume(self.engine, vol["id"],
                                         {"status": states.DOWNLOADING},
                                         expected_status=states.CREATING)
            update = self.driver.create_volume(vol)
            self.driver.copy_image_to_volume(image_utils.glance_context(glance_auth), vol,
                                             vol["image_id"])
            return update
        return self.driver.create_volume(vol)

    def _create_failed(self, ctxt, vol, request_spec, filter_properties, glance_auth, exc):
        try:
            self.driver.delete_volume(vol)
        except Exception:  # noqa: BLE001 - cleanup only
            LOG.exception("cleanup of failed volume %s", vol["id"])
        db_pools.release(self.engine, vol["id"])
        retry = (filter_properties or {}).get("retry")
        can_retry = (retry is not None and not vol.get("snapshot_id")
                     and not vol.get("source_volid") and not isinstance(exc, NO_RESCHEDULE)
                     and request_spec.get("volume_id") == vol["id"])
        if can_retry:
            retry = dict(retry)
            retry["exc"] = str(exc)[:500]
            props = dict(filter_properties, retry=retry)
            try:
                db_volumes.update_volume(self.engine, vol["id"],
                                         {"status": states.CREATING, "host": None},
                                         expected_status=[states.CREATING,
                                                          states.DOWNLOADING])
                self.scheduler_api.create_volume(ctxt, request_spec, props,
                                                 glance_auth=glance_auth)
                LOG.info("volume %s rescheduled after attempt %s on %s", vol["id"],
                         retry.get("num_attempts"), self.backend_host)
                return
            except (vexc.VolumeNotFound, vexc.VolumeInvalidState):
                return
            except Exception:  # noqa: BLE001 - the scheduler is unreachable
                LOG.exception("reschedule of volume %s failed", vol["id"])
        try:
            db_volumes.update_volume(self.engine, vol["id"], {"status": states.ERROR},
                                     expected_status=[states.CREATING, states.DOWNLOADING])
        except (vexc.VolumeNotFound, vexc.VolumeInvalidState):
            pass

    # -- RPC: delete, extend ---------------------------------------------------------
    def delete_volume(self, ctxt, volume_id, cascade=False):
        """Delete a ``deleting`` volume (and, with ``cascade``, its snapshots)."""
        with self._lock(volume_id):
            try:
                vol = db_volumes.get_volume(self.engine, volume_id)
            except vexc.VolumeNotFound:
                db_pools.release(self.engine, volume_id)
                return
            if vol["status"] != states.DELETING:
                LOG.info("volume %s is %s, not deleting; ignoring", volume_id, vol["status"])
                return
            snaps = db_snapshots.list_snapshots(self.engine, filters={"volume_id": volume_id})
            try:
                self.driver.delete_volume(vol)
            except Exception as exc:  # noqa: BLE001
                LOG.error("delete of volume %s failed: %s", volume_id, exc)
                db_volumes.update_volume(self.engine, volume_id,
                                         {"status": states.ERROR_DELETING},
                                         expected_status=states.DELETING)
                return
            for snap in snaps:
                db_snapshots.soft_delete_snapshot(self.engine, snap["id"])
            db_pools.release(self.engine, volume_id)
            try:
                db_volumes.soft_delete_volume(self.engine, volume_id,
                                              expected_status=states.DELETING)
            except vexc.VolumeInvalidState:
                LOG.warning("volume %s left deleting during its delete", volume_id)
            LOG.info("volume %s deleted", volume_id)

    def extend_volume(self, ctxt, volume_id, new_size):
        """Grow an ``extending`` volume to ``new_size`` GiB."""
        with self._lock(volume_id):
            try:
                vol = db_volumes.get_volume(self.engine, volume_id)
            except vexc.VolumeNotFound:
                return
            if vol["status"] != states.EXTENDING:
                LOG.info("volume %s is %s, not extending; ignoring", volume_id, vol["status"])
                return
            back = vol.get("previous_status") or states.AVAILABLE
            if back == states.EXTENDING:
                back = states.AVAILABLE
            specs = {}
            if vol.get("volume_type_id"):
                try:
                    specs = db_types.get_extra_specs(self.engine, vol["volume_type_id"])
                except vexc.VolumeTypeNotFound:
                    pass
            if not db_pools.extend_claim(self.engine, volume_id, new_size,
                                         thin=capacity.request_is_thin(specs)):
                LOG.warning("extend of volume %s to %s GiB: no capacity on %s", volume_id,
                            new_size, vol.get("host"))
                db_volumes.update_volume(self.engine, volume_id,
                                         {"status": back, "pending_size": None},
                                         expected_status=states.EXTENDING)
                return
            try:
                self.driver.extend_volume(vol, int(new_size))
            except Exception as exc:  # noqa: BLE001
                LOG.error("extend of volume %s failed: %s", volume_id, exc)
                db_volumes.update_volume(self.engine, volume_id,
                                         {"status": states.ERROR_EXTENDING,
                                          "pending_size": None},
                                         expected_status=states.EXTENDING)
                return
            db_volumes.update_volume(self.engine, volume_id,
                                     {"status": back, "size": int(new_size),
                                      "pending_size": None},
                                     expected_status=states.EXTENDING)
            LOG.info("volume %s extended to %s GiB", volume_id, new_size)

    # -- RPC: snapshots ----------------------------------------------------------------
    def create_snapshot(self, ctxt, volume_id, snapshot_id):
        """Create the data of a ``creating`` snapshot."""
        with self._lock(volume_id):
            try:
                snap = db_snapshots.get_snapshot(self.engine, snapshot_id)
                vol = db_volumes.get_volume(self.engine, volume_id)
            except (vexc.SnapshotNotFound, vexc.VolumeNotFound):
                return
            if snap["status"] != states.SNAP_CREATING:
                return
            try:
                update = self.driver.create_snapshot(snap, vol) or {}
            except Exception as exc:  # noqa: BLE001
                LOG.error("snapshot %s of volume %s failed: %s", snapshot_id, volume_id, exc)
                db_snapshots.update_snapshot(self.engine, snapshot_id,
                                             {"status": states.SNAP_ERROR},
                                             expected_status=states.SNAP_CREATING)
                return
            values = {"status": states.SNAP_AVAILABLE, "progress": "100%"}
            if update.get("provider_location"):
                values["provider_location"] = update["provider_location"]
            try:
                db_snapshots.update_snapshot(self.engine, snapshot_id, values,
                                             expected_status=states.SNAP_CREATING)
            except (vexc.SnapshotNotFound, vexc.SnapshotInvalidState):
                pass

    def delete_snapshot(self, ctxt, volume_id, snapshot_id):
        """Delete a ``deleting`` snapshot."""
        with self._lock(volume_id):
            try:
                snap = db_snapshots.get_snapshot(self.engine, snapshot_id)
            except vexc.SnapshotNotFound:
                return
            if snap["status"] != states.SNAP_DELETING:
                return
            try:
                vol = db_volumes.get_volume(self.engine, volume_id, read_deleted="yes")
                self.driver.delete_snapshot(snap, vol)
            except Exception as exc:  # noqa: BLE001
                LOG.error("delete of snapshot %s failed: %s", snapshot_id, exc)
                db_snapshots.update_snapshot(self.engine, snapshot_id,
                                             {"status": states.SNAP_ERROR_DELETING},
                                             expected_status=states.SNAP_DELETING)
                return
            try:
                db_snapshots.soft_delete_snapshot(self.engine, snapshot_id,
                                                  expected_status=states.SNAP_DELETING)
            except vexc.SnapshotInvalidState:
                pass

    # -- RPC: images --------------------------------------------------------------------
    def upload_to_image(self, ctxt, volume_id, image_id, image_meta=None, glance_auth=None):
        """Upload an ``uploading`` volume to the queued Glance image."""
        with self._lock(volume_id):
            try:
                vol = db_volumes.get_volume(self.engine, volume_id)
            except vexc.VolumeNotFound:
                return
            if vol["status"] != states.UPLOADING:
                return
            gctx = image_utils.glance_context(glance_auth)
            try:
                self.driver.copy_volume_to_image(gctx, vol, image_id, image_meta or {})
                LOG.info("volume %s uploaded to image %s", volume_id, image_id)
            except Exception as exc:  # noqa: BLE001
                LOG.error("upload of volume %s to image %s failed: %s", volume_id,
                          image_id, exc)
                image_utils.delete_image(gctx, image_id)
            back = vol.get("previous_status") or states.AVAILABLE
            if back == states.UPLOADING:
                back = states.AVAILABLE
            try:
                db_volumes.update_volume(self.engine, volume_id, {"status": back},
                                         expected_status=states.UPLOADING)
            except (vexc.VolumeNotFound, vexc.VolumeInvalidState):
                pass

    # -- RPC: connections (calls) ----------------------------------------------------
    def initialize_connection(self, ctxt, volume_id, connector=None):
        """connection_info of the volume for ``connector``."""
        vol = db_volumes.get_volume(self.engine, volume_id)
        return self.driver.initialize_connection(vol, connector or {})

    def terminate_connection(self, ctxt, volume_id, connector=None, force=False):
        vol = db_volumes.get_volume(self.engine, volume_id, read_deleted="yes")
        self.driver.terminate_connection(vol, connector or {}, force=force)

    def attach_volume(self, ctxt, volume_id, attachment_id, instance_uuid=None,
                      host_name=None, mountpoint=None):
        """Mark the attachment ``attached`` and the volume ``in-use``."""
        return db_volumes.finish_attach(self.engine, attachment_id, mountpoint=mountpoint,
                                        attached_host=host_name, instance_uuid=instance_uuid)

    def detach_volume(self, ctxt, volume_id, attachment_id=None):
        """Remove the attachment; the volume is ``available`` after its last one."""
        if attachment_id is None:
            atts = db_volumes.list_attachments(self.engine, volume_id=volume_id)
            if len(atts) != 1:
                raise vexc.VolumeInvalidState(
                    volume_id=volume_id, expected="one attachment",
                    actual="%d attachments" % len(atts))
            attachment_id = atts[0]["id"]
        return db_volumes.finish_detach(self.engine, volume_id, attachment_id)
