"""Read images from Glance v2 on the user's behalf.

The endpoint is ``[glance] api_servers`` (first of a comma-separated list)
or, when unset, the ``image`` endpoint of the token's service catalog
(public interface preferred). Nova does the same in ``nova/image/glance.py``.

Requests go through one ``requests.Session`` per process (its connection
pool keeps HTTP connections to Glance open across requests and threads,
as Nova's glance client keeps its keystoneauth session); the proxy and CA
settings of the environment are read once per endpoint instead of on
every request.

Image metadata is not cached unless ``[glance] image_cache_ttl`` is set
(Nova never caches it): then each API worker keeps the normalised image of
a successful GET for that many seconds, keyed by image id *and* the
project of the token (what a project may see in Glance depends only on
the project: owner, public, community or shared with it). Errors and
not-found answers are never cached.
"""
import copy
import http.cookiejar
import logging
import os
import threading
import time

import requests
import requests.adapters
import urllib3

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


#: connections kept open to Glance per process (the API's threads share them)
POOL_MAXSIZE = 32
#: times a GET is retried after a connection error (e.g. a reused
#: keep-alive connection that Glance had closed)
GET_RETRIES = 2

_session = None
_session_pid = None
_env_settings = {}
_session_lock = threading.Lock()


def _get_session():
    """The process-wide Session (a new one after a fork)."""
    global _session, _session_pid
    with _session_lock:
        if _session is None or _session_pid != os.getpid():
            session = requests.Session()
            # A kept-alive connection that Glance closed meanwhile fails the
            # request that reuses it: GETs are retried (Nova's glance client
            # retries too, [glance] num_retries), on a new connection.
            retry = urllib3.util.Retry(total=GET_RETRIES, connect=GET_RETRIES,
                                       read=GET_RETRIES, status=0, other=0,
                                       allowed_methods=frozenset(["GET"]),
                                       backoff_factor=0, raise_on_status=False)
            adapter = requests.adapters.HTTPAdapter(pool_connections=4,
                                                    pool_maxsize=POOL_MAXSIZE,
                                                    max_retries=retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            # The environment (proxies, CA bundle) is merged once per
            # endpoint by _settings_for, not on every request.
            session.trust_env = False
            # Shared by every user's requests: never keep cookies.
            session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(
                allowed_domains=[]))
            _session, _session_pid = session, os.getpid()
            _env_settings.clear()
        return _session


def _settings_for(endpoint):
    """Proxies/verify/cert from the environment for ``endpoint``, as
    requests merges them per request (computed once per endpoint)."""
    settings = _env_settings.get(endpoint)
    if settings is None:
        with requests.Session() as env_session:   # trust_env: reads the environment
            settings = env_session.merge_environment_settings(endpoint, {}, None, None,
                                                              None)
        settings.pop("stream", None)
        _env_settings[endpoint] = settings
    return settings


#: most cached images per process (the oldest entries are dropped beyond it)
IMAGE_CACHE_MAX = 1024

_image_cache = {}          # (image_id, project_id) -> (expires monotonic, image)
_image_cache_lock = threading.Lock()


def _cached(key):
    entry = _image_cache.get(key)
    if entry is None:
        return None
    if entry[0] <= time.monotonic():
        with _image_cache_lock:
            _image_cache.pop(key, None)
        return None
    return copy.deepcopy(entry[1])


def _remember(key, image, ttl):
    with _image_cache_lock:
        if len(_image_cache) >= IMAGE_CACHE_MAX:
            now = time.monotonic()
            for k in [k for k, (exp, _i) in _image_cache.items() if exp <= now]:
                del _image_cache[k]
            while len(_image_cache) >= IMAGE_CACHE_MAX:
                del _image_cache[next(iter(_image_cache))]
        _image_cache[key] = (time.monotonic() + ttl, copy.deepcopy(image))


def clear_image_cache():
    """Forget every cached image (tests)."""
    with _image_cache_lock:
        _image_cache.clear()


def get_image(ctxt, image_id):
    """One image as the user sees it (from the per-process cache when
    ``[glance] image_cache_ttl`` is set, see the module docstring).

    :param ctxt: RequestContext (its ``auth_token`` is sent to Glance).
    :returns: the normalised image dict (see :func:`_normalise`).
    :raises ImageNotFound: 404 from Glance (or not visible to the user).
    :raises ImageServiceUnavailable: Glance unreachable or erroring.
    """
    ttl = CONF.glance.image_cache_ttl
    key = (image_id, ctxt.project_id)
    if ttl > 0:
        image = _cached(key)
        if image is not None:
            return image
    image = _fetch_image(ctxt, image_id)
    if ttl > 0:
        _remember(key, image, ttl)
    return image


def _fetch_image(ctxt, image_id):
    """GET the image from Glance (see :func:`get_image`)."""
    endpoint = _endpoint(ctxt)
    url = "%s/v2/images/%s" % (endpoint, image_id)
    headers = {"Accept": "application/json"}
    if ctxt.auth_token:
        headers["X-Auth-Token"] = ctxt.auth_token
    if ctxt.request_id:
        headers["X-OpenStack-Request-ID"] = ctxt.request_id
    try:
        session = _get_session()
        resp = session.get(url, headers=headers, timeout=CONF.glance.timeout,
                           **_settings_for(endpoint))
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
