"""Quota-checked creates of the Block Storage API, over
:mod:`controlplane.db.volume_quotas` (counted usage, check and recheck in
one transaction): the effective limits of the project (options < quota
class ``default`` < project) including the per-type resources of the
type concerned. Over a limit is 413 ``overLimit``.
"""
from controlplane.api import faults
from controlplane.api.volume import helpers
from controlplane.db import engine as db_engine
from controlplane.db import volume_quotas as db_vquotas
from controlplane.volume import exception as vexc


def _limits(project_id, type_name=None):
    eng = db_engine.api_engine()
    return db_vquotas.get_limits(eng, project_id, [type_name] if type_name else [])


def _over(exc):
    raise helpers.OverQuota(exc.message)


def create_volume(ctxt, values, vtype):
    """Insert the volume (``creating``) within the project's quota.

    :raises helpers.OverQuota: 413 (volumes, gigabytes, per type, per volume).
    """
    # the id is chosen once, outside the transaction's retries
    values = dict(values, id=values.get("id") or db_engine.new_uuid())
    try:
        return db_vquotas.create_volume_within_quota(
            db_engine.api_engine(), values["project_id"], values,
            _limits(values["project_id"], vtype["name"]))
    except (vexc.VolumeQuotaExceeded, vexc.VolumeSizeExceedsLimit) as exc:
        _over(exc)


def create_snapshot(ctxt, values, vol, type_name, expected_volume_status):
    """Insert the snapshot (``creating``) within quota, the volume being in
    ``expected_volume_status``.

    :raises helpers.OverQuota: 413. :raises faults.Conflict: the volume's
        status changed meanwhile. :raises faults.NotFound.
    """
    try:
        return db_vquotas.create_snapshot_within_quota(
            db_engine.api_engine(), vol["project_id"], values,
            _limits(vol["project_id"], type_name),
            expected_volume_status=expected_volume_status)
    except vexc.VolumeQuotaExceeded as exc:
        _over(exc)
    except vexc.VolumeNotFound:
        raise faults.NotFound("Volume %s could not be found." % vol["id"])


def begin_extend(ctxt, vol, new_size, type_name, expected_status):
    """CAS the volume to ``extending`` if the added GiB fit the quota.

    :raises helpers.OverQuota (413), VolumeInvalidState (409).
    """
    try:
        return db_vquotas.begin_extend_within_quota(
            db_engine.api_engine(), vol["id"], new_size,
            _limits(vol["project_id"], type_name), expected_status=expected_status)
    except (vexc.VolumeQuotaExceeded, vexc.VolumeSizeExceedsLimit) as exc:
        _over(exc)
