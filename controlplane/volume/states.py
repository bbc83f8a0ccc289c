"""Volume, snapshot and attachment status machines (Cinder's values).

Every transition is a compare-and-swap in the database
(``UPDATE volumes SET status=:new WHERE id=:id AND status IN (:expected)``,
see :func:`controlplane.db.volumes.update_volume`): of two racing requests
on one volume exactly one finds the expected status; the other gets
``VolumeInvalidState`` (HTTP 409).

:data:`VOLUME_ACTIONS` names each user action's expected statuses and the
status it moves the volume to; the API and the manager both use it so the
rules live in one place. Source: cinder/volume/api.py (``expected``
arguments of ``conditional_update``) and the Block Storage API reference
("Volumes: status values").
"""

# --- volume status ----------------------------------------------------------
CREATING = "creating"
AVAILABLE = "available"
RESERVED = "reserved"
ATTACHING = "attaching"
IN_USE = "in-use"
DETACHING = "detaching"
MAINTENANCE = "maintenance"
DELETING = "deleting"
ERROR = "error"
ERROR_DELETING = "error_deleting"
ERROR_EXTENDING = "error_extending"
ERROR_RESTORING = "error_restoring"
ERROR_MANAGING = "error_managing"
EXTENDING = "extending"
DOWNLOADING = "downloading"
UPLOADING = "uploading"
BACKING_UP = "backing-up"
RESTORING_BACKUP = "restoring-backup"
RETYPING = "retyping"
DELETED = "deleted"

VOLUME_STATUSES = frozenset({
    CREATING, AVAILABLE, RESERVED, ATTACHING, IN_USE, DETACHING, MAINTENANCE,
    DELETING, ERROR, ERROR_DELETING, ERROR_EXTENDING, ERROR_RESTORING,
    ERROR_MANAGING, EXTENDING, DOWNLOADING, UPLOADING, BACKING_UP,
    RESTORING_BACKUP, RETYPING, DELETED})

# --- attach_status (volumes and volume_attachments) -------------------------
DETACHED = "detached"
ATTACHED = "attached"
ATTACH_RESERVED = "reserved"
ATTACH_ATTACHING = "attaching"
ATTACH_DETACHING = "detaching"
ERROR_ATTACHING = "error_attaching"
ERROR_DETACHING = "error_detaching"

# --- snapshot status --------------------------------------------------------
SNAP_CREATING = "creating"
SNAP_AVAILABLE = "available"
SNAP_DELETING = "deleting"
SNAP_ERROR = "error"
SNAP_ERROR_DELETING = "error_deleting"
SNAP_DELETED = "deleted"

#: statuses from which a volume may be deleted (Cinder's ``delete``)
DELETABLE = (AVAILABLE, ERROR, ERROR_RESTORING, ERROR_EXTENDING, ERROR_MANAGING)
#: with ``force`` (os-force_delete) also these
FORCE_DELETABLE = DELETABLE + (CREATING, DELETING, ERROR_DELETING, DOWNLOADING,
                               UPLOADING, EXTENDING, MAINTENANCE, RESERVED)

#: action -> (expected statuses, new status)
VOLUME_ACTIONS = {
    "delete": (DELETABLE, DELETING),
    "force_delete": (FORCE_DELETABLE, DELETING),
    "extend": ((AVAILABLE,), EXTENDING),
    "extend_in_use": ((AVAILABLE, IN_USE), EXTENDING),
    "upload_to_image": ((AVAILABLE,), UPLOADING),
    "force_upload_to_image": ((AVAILABLE, IN_USE), UPLOADING),
    "reserve": ((AVAILABLE,), RESERVED),
    "reserve_multiattach": ((AVAILABLE, IN_USE), RESERVED),
    "unreserve": ((RESERVED,), AVAILABLE),
    "begin_attaching": ((AVAILABLE, RESERVED), ATTACHING),
    "begin_detaching": ((IN_USE,), DETACHING),
    "roll_detaching": ((DETACHING,), IN_USE),
}

#: statuses a volume may be a clone source in (Cinder: available, in-use)
CLONE_SOURCE = (AVAILABLE, IN_USE)
#: statuses a volume may be snapshotted in (``force`` adds in-use)
SNAPSHOTTABLE = (AVAILABLE,)
FORCE_SNAPSHOTTABLE = (AVAILABLE, IN_USE)
#: snapshot statuses from which it may be deleted
SNAP_DELETABLE = (SNAP_AVAILABLE, SNAP_ERROR)
#: statuses a snapshot may be the source of a new volume in
SNAP_SOURCE = (SNAP_AVAILABLE,)


def expected_for(action):
    """``(expected statuses, new status)`` of a :data:`VOLUME_ACTIONS` name;
    raises KeyError for an unknown action."""
    return VOLUME_ACTIONS[action]
