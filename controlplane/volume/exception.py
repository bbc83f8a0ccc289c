"""Errors of the block-storage layer (Cinder's names where they exist).

Every class carries the HTTP status the Block Storage API answers with
(``code``); the RPC layer carries the class name and message.
"""
from controlplane import exception


class VolumeNotFound(exception.NotFound):
    msg_fmt = "Volume %(volume_id)s could not be found."


class SnapshotNotFound(exception.NotFound):
    msg_fmt = "Snapshot %(snapshot_id)s could not be found."


class VolumeTypeNotFound(exception.NotFound):
    msg_fmt = "Volume type %(volume_type_id)s could not be found."


class VolumeTypeNotFoundByName(VolumeTypeNotFound):
    msg_fmt = "Volume type with name %(volume_type_name)s could not be found."


class VolumeTypeExists(exception.Conflict):
    msg_fmt = "Volume Type %(id)s already exists."


class VolumeTypeExtraSpecsNotFound(exception.NotFound):
    msg_fmt = "Volume Type %(volume_type_id)s has no extra specs with key %(extra_specs_key)s."


class VolumeTypeAccessExists(exception.Conflict):
    msg_fmt = ("Volume type access for %(volume_type_id)s / %(project_id)s "
               "combination already exists.")


class VolumeTypeAccessNotFound(exception.NotFound):
    msg_fmt = ("Volume type access not found for %(volume_type_id)s / "
               "%(project_id)s combination.")


class VolumeTypeInUse(exception.Invalid):
    msg_fmt = ("Volume Type %(volume_type_id)s deletion is not allowed with "
               "volumes present with the type.")


class VolumeTypeDefault(exception.Invalid):
    msg_fmt = "The default volume type %(volume_type_id)s cannot be deleted."


class AttachmentNotFound(exception.NotFound):
    msg_fmt = "Volume attachment %(attachment_id)s could not be found."


class VolumeInvalidState(exception.Conflict):
    """A compare-and-swap on a volume's status failed (HTTP 409).

    :ivar volume_id, expected (list of statuses), actual (status found).
    """
    msg_fmt = ("Invalid volume: Volume %(volume_id)s status must be %(expected)s, "
               "but current status is: %(actual)s.")

    def __init__(self, message=None, code=None, **kwargs):
        exp = kwargs.get("expected")
        if isinstance(exp, (list, tuple, set, frozenset)):
            kwargs["expected"] = " or ".join(sorted(str(e) for e in exp))
        super().__init__(message, code, **kwargs)


class SnapshotInvalidState(exception.Conflict):
    msg_fmt = ("Invalid snapshot: Snapshot %(snapshot_id)s status must be %(expected)s, "
               "but current status is: %(actual)s.")

    def __init__(self, message=None, code=None, **kwargs):
        exp = kwargs.get("expected")
        if isinstance(exp, (list, tuple, set, frozenset)):
            kwargs["expected"] = " or ".join(sorted(str(e) for e in exp))
        super().__init__(message, code, **kwargs)


class VolumeHasSnapshots(exception.Conflict):
    msg_fmt = "Volume %(volume_id)s still has dependent snapshots."


class VolumeAttached(exception.Conflict):
    msg_fmt = "Volume %(volume_id)s is still attached, detach volume first."


class VolumeSizeExceedsLimit(exception.ControlPlaneException):
    """``per_volume_gigabytes`` exceeded (Cinder answers 413)."""
    msg_fmt = "Requested volume size %(size)dG is larger than maximum allowed limit %(limit)dG."
    code = 413


class VolumeQuotaExceeded(exception.ControlPlaneException):
    """A create would go over a block-storage quota (HTTP 413, Cinder's
    ``VolumeLimitExceeded`` / ``VolumeSizeExceedsAvailableQuota``).

    :ivar overs: list of ``{"resource", "requested", "used", "limit"}``.
    """
    msg_fmt = "Quota exceeded"
    code = 413

    def __init__(self, overs):
        self.overs = overs
        first = overs[0]
        if first["resource"].startswith("gigabytes"):
            msg = ("Requested volume or snapshot exceeds allowed %s quota. "
                   "Requested %sG, quota is %sG and %sG has been consumed." % (
                       first["resource"], first["requested"], first["limit"],
                       first["used"]))
        else:
            msg = ("Maximum number of %s allowed (%s) exceeded for quota '%s'." % (
                first["resource"], first["limit"], first["resource"]))
        super().__init__(msg)


class NoValidBackend(exception.ControlPlaneException):
    """The volume scheduler found no pool (Cinder's ``NoValidBackend``)."""
    msg_fmt = "No valid backend was found. %(reason)s"
    code = 400

    def __init__(self, message=None, code=None, reason=None, **kwargs):
        if message is None:
            kwargs["reason"] = reason or ""
        super().__init__(message, code, **kwargs)


class VolumeDriverError(exception.ControlPlaneException):
    msg_fmt = "Volume driver error: %(reason)s"
    code = 500


class VolumeBackendAPIException(VolumeDriverError):
    msg_fmt = "Bad or unexpected response from the storage volume backend API: %(data)s"


class ImageCopyFailure(VolumeDriverError):
    msg_fmt = "Failed to copy image to volume: %(reason)s"


class ImageUnacceptable(exception.Invalid):
    msg_fmt = "Image %(image_id)s is unacceptable: %(reason)s"
