"""Finishing deletes whose message was lost or whose handler failed.

Shared by the compute manager (instances, ``task_state`` ``deleting``) and
the volume manager (volumes, ``status`` ``deleting``). Their delete
handlers are idempotent, and the RPC server acks a message even when its
handler raised (:mod:`controlplane.rpc.server`), so a delete left pending
is simply run again. This is Nova's ``_init_instance`` / Cinder's
``init_host`` delete completion, run periodically instead of only at
service start.
"""
import datetime
import logging

from controlplane.db.services import utcnow

LOG = logging.getLogger(__name__)


def redo_stale_deletes(rows, *, state_key, id_key, seconds, redo, kind):
    """Run ``redo(id)`` for every row in ``deleting`` unchanged for ``seconds``.

    :param rows: dicts with ``state_key``, ``id_key`` and ``updated_at`` /
        ``created_at`` (naive UTC datetimes, as the db layer returns them;
        a row with neither counts as old enough).
    :param state_key: ``"task_state"`` (instances) or ``"status"`` (volumes).
    :param id_key: ``"uuid"`` or ``"id"``.
    :param seconds: how long a delete may be pending before it is redone;
        a younger one's message may still be on its way.
    :param redo: the manager's idempotent delete, called with the id.
    :param kind: ``"instance"`` or ``"volume"``, for the log lines.
    :returns: the ids whose delete ran without raising. An exception is
        logged and the others go on (it is retried on the next run).
    """
    cutoff = utcnow() - datetime.timedelta(seconds=seconds)
    done = []
    for row in rows:
        changed = row.get("updated_at") or row.get("created_at")
        if row.get(state_key) != "deleting" or (changed is not None and changed > cutoff):
            continue
        LOG.warning("%s %s has been deleting since %s: completing a delete whose "
                    "message was lost or whose handler failed", kind, row[id_key],
                    changed)
        try:
            redo(row[id_key])
        except Exception:  # noqa: BLE001 - finish the others; retried next time
            LOG.exception("completing the delete of %s %s failed", kind, row[id_key])
            continue
        done.append(row[id_key])
    return done
