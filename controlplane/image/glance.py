"""Read images from Glance v2 on the user's behalf.

The endpoint is ``[glance] api_servers`` (first of a comma-separated list)
or, when unset, the ``image`` endpoint of the token's service catalog
(public interface preferred). Nova does the same in ``nova/image/glance.py``.
"""
import logging

import requests

from controlplane import exception
from controlplane.conf import CONF

LOG = logging.getLogger(__name__)

# Glance v2 image fields that are not custom properties
_BASE_FIELDS = {"id", "name", "status", "visibility", "protected", "checksum",
                "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size",
                "min_ram", "min_disk", "disk_format", "container_format",
                "created_at", "updated_at", "tags", "file", "self", "schema",
                "direct_url", "locations", "os_hidden", "stores"}


class ImageNotFound(exception.NotFound):
    msg_fmt = "Image %(image_id)s could not be found."


class ImageServiceUnavailable(exception.ControlPlaneException):
    msg_fmt = "The image service is unavailable: %(reason)s"
    code = 503


def _endpoint(ctxt):
    if CONF.glance.api_servers:
        return CONF.glance.api_servers.split(",")[0].strip().rstrip("/")
    for service in ctxt.service_catalog or []:
        if service.get("type") != "image":
            continue
        endpoints = service.get("endpoints", [])
        for wanted in ("public", "internal", "admin"):
            for ep in endpoints:
                if ep.get("interface", "public") == wanted and ep.get("url"):
                    return ep["url"].rstrip("/")
            for ep in endpoints:   # v2 catalog format: publicURL
                url = ep.get(wanted + "URL")
                if url:
                    return url.rstrip("/")
    raise ImageServiceUnavailable(reason="no image endpoint in [glance] api_servers "
                                  "or in the service catalog")


def _normalise(raw):
    """Glance v2 image JSON → ``{"id", "name", "status", "min_ram",
    "min_disk", "size", "properties": {custom properties}}``."""
    props = {k: v for k, v in raw.items() if k not in _BASE_FIELDS}
    for key in ("disk_format", "container_format"):
        if raw.get(key) is not None:
            props.setdefault(key, raw[key])
    return {"id": raw.get("id"), "name": raw.get("name"), "status": raw.get("status"),
            "min_ram": int(raw.get("min_ram") or 0), "min_disk": int(raw.get("min_disk") or 0),
            "size": raw.get("size"), "properties": props}


def get_image(ctxt, image_id):
    """One image as the user sees it.

    :param ctxt: RequestContext (its ``auth_token`` is sent to Glance).
    :returns: the normalised image dict (see :func:`_normalise`).
    :raises ImageNotFound: 404 from Glance (or not visible to the user).
    :raises ImageServiceUnavailable: Glance unreachable or erroring.
    """
    url = "%s/v2/images/%s" % (_endpoint(ctxt), image_id)
    headers = {"Accept": "application/json"}
    if ctxt.auth_token:
        headers["X-Auth-Token"] = ctxt.auth_token
    if ctxt.request_id:
        headers["X-OpenStack-Request-ID"] = ctxt.request_id
    try:
        resp = requests.get(url, headers=headers, timeout=CONF.glance.timeout)
    except requests.RequestException as exc:
        LOG.warning("Glance request %s failed: %s", url, exc)
        raise ImageServiceUnavailable(reason=str(exc))
    if resp.status_code in (404, 403, 400):
        raise ImageNotFound(image_id=image_id)
    if resp.status_code != 200:
        LOG.warning("Glance answered %s for %s", resp.status_code, url)
        raise ImageServiceUnavailable(reason="HTTP %s" % resp.status_code)
    try:
        return _normalise(resp.json())
    except ValueError:
        raise ImageServiceUnavailable(reason="response is not JSON")
