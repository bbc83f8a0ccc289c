"""The Block Storage API's clients of the volume services (VOL-CORE's
:mod:`controlplane.volume.rpcapi` and
:mod:`controlplane.volume.scheduler.rpcapi`), one per process, and the few
steps that finish in the database when no backend holds the resource.

Tests replace :data:`_volume` / :data:`_scheduler` with recorders.
"""
import logging

from controlplane.api.volume import image
from controlplane.db import engine as db_engine
from controlplane.db import snapshots as db_snapshots
from controlplane.db import volumes as db_volumes
from controlplane.volume import exception as vexc
from controlplane.volume import states

LOG = logging.getLogger(__name__)

_volume = None
_scheduler = None


def volume_api():
    """The process-wide volume service client (topic ``volume.<host>@<backend>``)."""
    global _volume
    if _volume is None:
        from controlplane.volume.rpcapi import VolumeAPI
        _volume = VolumeAPI()
    return _volume


def scheduler_api():
    """The process-wide volume scheduler client (topic ``volume-scheduler``)."""
    global _scheduler
    if _scheduler is None:
        from controlplane.volume.scheduler.rpcapi import SchedulerAPI
        _scheduler = SchedulerAPI()
    return _scheduler


def reset_clients():
    """Forget the clients (after a fork)."""
    global _volume, _scheduler
    _volume = _scheduler = None


def set_error(volume_id):
    """Put a volume whose create could not be cast in ``error``."""
    try:
        db_volumes.update_volume(db_engine.api_engine(), volume_id,
                                 {"status": states.ERROR}, expected_status=[states.CREATING])
    except (vexc.VolumeNotFound, vexc.VolumeInvalidState):
        pass


def delete_unplaced(ctxt, vol):
    """Delete a ``deleting`` volume no backend holds (never scheduled, or
    its create failed before placement), with its snapshots."""
    eng = db_engine.api_engine()
    for snap in db_snapshots.list_snapshots(eng, filters={"volume_id": vol["id"]}):
        db_snapshots.soft_delete_snapshot(eng, snap["id"])
    db_volumes.soft_delete_volume(eng, vol["id"], expected_status=[states.DELETING])


def delete_snapshot(ctxt, snap):
    """Cast the delete of a ``deleting`` snapshot to its volume's backend, or
    delete it at once when the volume has none."""
    eng = db_engine.api_engine()
    try:
        vol = db_volumes.get_volume(eng, snap["volume_id"], read_deleted="yes")
    except vexc.VolumeNotFound:
        vol = None
    if vol is None or not vol.get("host") or vol.get("deleted"):
        db_snapshots.soft_delete_snapshot(eng, snap["id"])
        return
    volume_api().delete_snapshot(ctxt, vol, snap)


def create_image(ctxt, vol, meta):
    """The Glance image ``vol`` will be uploaded to (see :mod:`.image`)."""
    return image.create_image(ctxt, vol, meta)
