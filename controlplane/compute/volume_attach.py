"""Attaching and detaching volumes on the compute host (Nova's
``ComputeManager.attach_volume`` / ``detach_volume`` with the Cinder
attachment flow, trimmed).

The Compute API reserved the volume (``available`` → ``reserved``, an
attachment row ``reserved``) before casting here; this module then does
what the host must:

* attach: ``initialize_connection`` (volume service, a call) →
  driver ``attach_volume`` → ``attach_volume`` on the volume service
  (attachment ``attached``, volume ``in-use``). On any failure the
  connection is terminated and the reservation rolled back (volume
  ``available`` again).
* detach (the API set the volume ``detaching``): driver
  ``detach_volume`` → ``terminate_connection`` → ``detach_volume`` on the
  volume service (attachment deleted, volume ``available``).
* :func:`detach_all` on server delete: every volume of the instance is
  detached as above, so a deleted server leaves its volumes whole and
  ``available``.

Handlers are idempotent: an attachment already attached (or gone) is left
as it is. The volume service is reached only through
:mod:`controlplane.volume.rpcapi`; attachments are read with
:mod:`controlplane.db.volumes` (API database).
"""
import logging

from controlplane.db import engine as db_engine
from controlplane.db import volumes as db_volumes
from controlplane.volume import exception as vexc
from controlplane.volume import states as vstates

LOG = logging.getLogger(__name__)

_volume_api = None


def volume_api():
    """The process-wide volume service RPC client."""
    global _volume_api
    if _volume_api is None:
        from controlplane.volume.rpcapi import VolumeAPI
        _volume_api = VolumeAPI()
    return _volume_api


def _engine():
    return db_engine.api_engine()


def _get(volume_id, attachment_id):
    """``(volume, attachment)`` or ``(None, None)`` when either is gone."""
    try:
        vol = db_volumes.get_volume(_engine(), volume_id)
        att = db_volumes.get_attachment(_engine(), attachment_id)
    except (vexc.VolumeNotFound, vexc.AttachmentNotFound):
        return None, None
    return vol, att


def _rollback(ctxt, vol, att, connector, instance):
    """Undo a failed attach: terminate the connection, free the reservation."""
    try:
        volume_api().terminate_connection(ctxt, vol, connector)
    except Exception:  # noqa: BLE001 - best effort
        LOG.exception("terminate_connection of %s failed during rollback", vol["id"])
    try:
        db_volumes.finish_detach(_engine(), vol["id"], att["id"])
    except Exception:  # noqa: BLE001
        LOG.exception("could not roll back the reservation of volume %s", vol["id"])


def attach(driver, ctxt, instance, volume_id, attachment_id, mountpoint):
    """Attach ``volume_id`` to ``instance`` at ``mountpoint``.

    :param instance: the instance dict (None: deleted meanwhile, the
        reservation is rolled back).
    :returns: True when the volume is attached.
    """
    vol, att = _get(volume_id, attachment_id)
    if vol is None:
        LOG.info("attach of %s: volume or attachment %s is gone", volume_id, attachment_id)
        return False
    if att["attach_status"] == vstates.ATTACHED:
        LOG.info("volume %s is already attached (%s)", volume_id, attachment_id)
        return True
    connector = None
    if instance is None:
        LOG.info("instance of attachment %s is gone; releasing volume %s", attachment_id,
                 volume_id)
        db_volumes.finish_detach(_engine(), volume_id, attachment_id)
        return False
    attached = False
    try:
        connector = driver.get_volume_connector(instance)
        conn_info = volume_api().initialize_connection(ctxt, vol, connector)
        driver.attach_volume(ctxt, conn_info, instance, mountpoint)
        attached = True
        volume_api().attach_volume(ctxt, vol, attachment_id, instance["uuid"],
                                   instance.get("node") or instance.get("host"), mountpoint)
    except Exception as exc:  # noqa: BLE001 - any failure rolls the attach back
        LOG.warning("attach of volume %s to %s failed: %s; rolling back", volume_id,
                    instance["uuid"], exc)
        if attached:
            try:
                driver.detach_volume(ctxt, None, instance, mountpoint)
            except Exception:  # noqa: BLE001
                LOG.exception("driver detach during rollback failed")
        _rollback(ctxt, vol, att, connector or {}, instance)
        return False
    LOG.info("volume %s attached to %s at %s", volume_id, instance["uuid"], mountpoint)
    return True


def detach(driver, ctxt, instance, volume_id, attachment_id):
    """Detach ``volume_id`` from ``instance`` (which may be None when the
    instance is gone: the volume is then only freed).

    :returns: True when the attachment is gone afterwards.
    """
    vol, att = _get(volume_id, attachment_id)
    if vol is None:
        LOG.info("detach of %s: attachment %s already gone", volume_id, attachment_id)
        return True
    connector = {}
    if instance is not None:
        connector = driver.get_volume_connector(instance)
        driver.detach_volume(ctxt, att.get("connection_info"), instance, att.get("mountpoint"))
    try:
        volume_api().terminate_connection(ctxt, vol, connector)
        volume_api().detach_volume(ctxt, vol, attachment_id)
    except Exception as exc:  # noqa: BLE001
        LOG.warning("volume service detach of %s failed (%s); freeing it in the database",
                    volume_id, exc)
        db_volumes.finish_detach(_engine(), volume_id, attachment_id)
    LOG.info("volume %s detached from %s", volume_id,
             instance["uuid"] if instance else attachment_id)
    return True


def detach_all(driver, ctxt, instance):
    """Detach every volume of ``instance`` (server delete). Never raises: a
    volume that cannot be detached cleanly is freed in the database. A
    compute host without ``[api_database] connection`` has no volumes."""
    from controlplane.conf import CONF
    if not CONF.api_database.connection:
        return
    try:
        atts = db_volumes.list_attachments(_engine(), instance_uuid=instance["uuid"])
    except Exception:  # noqa: BLE001 - the API database may be unreachable
        LOG.exception("could not list the volumes of %s", instance["uuid"])
        return
    for att in atts:
        try:
            if att["attach_status"] == vstates.ATTACHED:
                try:
                    db_volumes.begin_detach(_engine(), att["volume_id"], att["id"])
                except vexc.VolumeInvalidState:
                    pass   # already detaching
            detach(driver, ctxt, instance, att["volume_id"], att["id"])
        except Exception:  # noqa: BLE001
            LOG.exception("detach of volume %s from deleted instance %s failed",
                          att["volume_id"], instance["uuid"])
            try:
                db_volumes.finish_detach(_engine(), att["volume_id"], att["id"])
            except Exception:  # noqa: BLE001
                LOG.exception("could not free volume %s", att["volume_id"])
