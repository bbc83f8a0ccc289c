"""Create the Glance image a volume is uploaded to (Cinder's API creates
the image record, ``queued``, before the volume service uploads the data).

Uses the endpoint and HTTP session of :mod:`controlplane.image.glance`
(``[glance] api_servers`` or the token's catalog) with the caller's token.
"""
import logging

import requests

from controlplane.image import glance

LOG = logging.getLogger(__name__)


def create_image(ctxt, volume, meta):
    """POST /v2/images as the caller.

    :param meta: ``name``, ``disk_format``, ``container_format``,
        ``visibility``, ``protected``.
    :returns: the Glance image dict (``id``, ``status`` ``queued``...).
    :raises glance.ImageServiceUnavailable: Glance unreachable or refusing
        (503); a 4xx from Glance is re-raised with its status.
    """
    from controlplane import exception
    from controlplane.conf import CONF
    endpoint = glance._endpoint(ctxt)
    body = {"name": meta["name"], "disk_format": meta["disk_format"],
            "container_format": meta["container_format"],
            "visibility": meta.get("visibility", "private"),
            "protected": bool(meta.get("protected", False)),
            "min_disk": int(volume["size"])}
    for key, value in (volume.get("glance_metadata") or {}).items():
        if key not in ("image_id", "image_name", "size", "min_disk", "min_ram", "checksum",
                       "disk_format", "container_format", "visibility", "protected",
                       "owner", "status", "id", "name"):
            body[key] = str(value)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if ctxt.auth_token:
        headers["X-Auth-Token"] = ctxt.auth_token
    try:
        resp = glance._get_session().post(endpoint + "/v2/images", json=body, headers=headers,
                                          timeout=CONF.glance.timeout)
    except requests.RequestException as exc:
        raise glance.ImageServiceUnavailable(reason=str(exc))
    if resp.status_code >= 500:
        raise glance.ImageServiceUnavailable(reason="Glance answered %d" % resp.status_code)
    if resp.status_code >= 400:
        raise exception.ControlPlaneException(
            "The image service refused the image: %s" % resp.text[:300],
            code=resp.status_code)
    image = resp.json()
    LOG.info("created image %s for volume %s", image.get("id"), volume["id"])
    return image
