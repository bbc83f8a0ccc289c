"""``qemu-img`` wrappers and Glance image data transfer for the volume drivers
(Cinder's ``cinder.image.image_utils``).

Glance: the image data is read from ``GET /v2/images/{id}/file`` and
written with ``PUT /v2/images/{id}/file`` using the endpoint and HTTP
session of :mod:`controlplane.image.glance` and the user's token (the
scheduler passes it on with the create request; see ``glance_auth``).
"""
import contextlib
import json
import logging
import os
import subprocess
import tempfile

import requests

from controlplane.conf import CONF
from controlplane.context import RequestContext
from controlplane.volume import exception as vexc

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
QEMU_IMG = "qemu-img"
CHUNK = 1024 * 1024


def _run(*args, timeout=3600):
    try:
        out = subprocess.run([QEMU_IMG, *args], check=True, capture_output=True, text=True,
                             timeout=timeout)
    except FileNotFoundError:
        raise vexc.VolumeDriverError(reason="qemu-img not found (install qemu-utils)")
    except subprocess.CalledProcessError as exc:
        raise vexc.VolumeDriverError(reason="qemu-img %s failed: %s" % (
            args[0], (exc.stderr or exc.stdout or "").strip()[:500]))
    return out.stdout


def info(path):
    """``qemu-img info --output=json`` as a dict (``format``,
    ``virtual-size`` bytes, ``backing-filename``...)."""
    return json.loads(_run("info", "--output=json", "-U", path))


def create(path, size_gb, fmt="raw", backing=None, backing_fmt=None, preallocate=False):
    """Create an image file of ``size_gb`` GiB (sparse unless
    ``preallocate``); with ``backing`` a qcow2 overlay on it."""
    args = ["create", "-f", fmt]
    if backing:
        args += ["-b", backing, "-F", backing_fmt or info(backing)["format"]]
    if preallocate and not backing:
        args += ["-o", "preallocation=falloc" if fmt == "raw" else "preallocation=metadata"]
    args.append(path)
    if size_gb is not None:
        args.append("%dG" % int(size_gb))
    _run(*args)


def convert(src, dst, out_fmt, src_fmt=None, sparse=True):
    """``qemu-img convert`` (follows the backing chain of ``src``)."""
    args = ["convert", "-O", out_fmt]
    if src_fmt:
        args += ["-f", src_fmt]
    if not sparse and out_fmt == "raw":
        args += ["-S", "0"]
    args += [src, dst]
    _run(*args)


def resize(path, size_gb, fmt=None):
    """Grow the image to ``size_gb`` GiB."""
    args = ["resize"]
    if fmt:
        args += ["-f", fmt]
    args += [path, "%dG" % int(size_gb)]
    _run(*args)


def commit(path):
    """Merge an overlay into its backing file (``qemu-img commit``)."""
    _run("commit", path)


def rebase_unsafe(path, backing, backing_fmt):
    """Point ``path`` at a new backing file without copying data."""
    _run("rebase", "-u", "-b", backing, "-F", backing_fmt, path)


# --- Glance ---------------------------------------------------------------------

def glance_context(glance_auth):
    """A RequestContext with the token and catalog passed in ``glance_auth``
    (``{"token", "catalog", "project_id"}``) for the Glance helpers."""
    glance_auth = glance_auth or {}
    return RequestContext(auth_token=glance_auth.get("token"),
                          service_catalog=glance_auth.get("catalog") or [],
                          project_id=glance_auth.get("project_id"))


def _headers(ctxt, extra=None):
    headers = dict(extra or {})
    if ctxt.auth_token:
        headers["X-Auth-Token"] = ctxt.auth_token
    return headers


@contextlib.contextmanager
def scratch_file(suffix=""):
    """A temporary file path in ``[DEFAULT] image_conversion_dir`` (created
    when missing), removed afterwards."""
    d = CONF.image_conversion_dir
    os.makedirs(d, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="cp-img-", suffix=suffix, dir=d)
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def download_image(ctxt, image_id, path):
    """Stream the image data to ``path``. Raises ImageCopyFailure."""
    from controlplane.image import glance
    endpoint = glance._endpoint(ctxt)
    url = "%s/v2/images/%s/file" % (endpoint, image_id)
    try:
        with glance._get_session().get(url, headers=_headers(ctxt), stream=True,
                                       timeout=CONF.glance.timeout) as resp:
            if resp.status_code != 200:
                raise vexc.ImageCopyFailure(reason="Glance answered %d for %s" % (
                    resp.status_code, url))
            with open(path, "wb") as f:
                for chunk in resp.iter_content(CHUNK):
                    f.write(chunk)
    except requests.RequestException as exc:
        raise vexc.ImageCopyFailure(reason=str(exc))


def upload_image(ctxt, image_id, path):
    """PUT the file as the image data (the image must be ``queued``).
    Raises VolumeDriverError."""
    from controlplane.image import glance
    endpoint = glance._endpoint(ctxt)
    url = "%s/v2/images/%s/file" % (endpoint, image_id)
    try:
        with open(path, "rb") as f:
            resp = glance._get_session().put(
                url, data=f, headers=_headers(ctxt, {"Content-Type": "application/octet-stream"}),
                timeout=max(CONF.glance.timeout, 600))
    except requests.RequestException as exc:
        raise vexc.VolumeDriverError(reason="upload to Glance failed: %s" % exc)
    if resp.status_code not in (200, 201, 204):
        raise vexc.VolumeDriverError(reason="Glance answered %d to the upload: %s" % (
            resp.status_code, resp.text[:300]))


def fetch_to_volume_format(ctxt, image_id, dst, out_fmt, size_gb):
    """Download ``image_id``, convert it to ``out_fmt`` at ``dst`` and grow it
    to ``size_gb`` GiB. Raises ImageUnacceptable when the image's virtual
    size exceeds the volume (Cinder's check), ImageCopyFailure on transfer
    errors."""
    with scratch_file(".img") as tmp:
        download_image(ctxt, image_id, tmp)
        try:
            meta = info(tmp)
        except vexc.VolumeDriverError as exc:
            raise vexc.ImageUnacceptable(image_id=image_id, reason=str(exc))
        vsize = int(meta.get("virtual-size") or 0)
        if vsize > int(size_gb) * GiB:
            raise vexc.ImageUnacceptable(
                image_id=image_id, reason="Image virtual size is %dGB and doesn't fit in a "
                "volume of size %dGB." % (-(-vsize // GiB), int(size_gb)))
        convert(tmp, dst, out_fmt, src_fmt=meta.get("format"))
    if int(info(dst)["virtual-size"]) < int(size_gb) * GiB:
        resize(dst, size_gb, fmt=out_fmt)


def delete_image(ctxt, image_id):
    """Best-effort ``DELETE /v2/images/{id}`` (a failed upload's image)."""
    from controlplane.image import glance
    try:
        endpoint = glance._endpoint(ctxt)
        glance._get_session().delete("%s/v2/images/%s" % (endpoint, image_id),
                                     headers=_headers(ctxt), timeout=CONF.glance.timeout)
    except Exception as exc:  # noqa: BLE001 - cleanup only
        LOG.warning("could not delete image %s after a failed upload: %s", image_id, exc)
