"""A small Keystone v3 + Compute v2.1 + Block Storage v3 REST client over
``requests``.

Only what the drills need: password authentication (token, compute and
block-storage endpoints from the catalog, or overrides), and raw requests
whose outcome the caller classifies and journals. No retry here: the
workload decides what to retry, so every attempt is visible in the journal.

Cloud settings come from a ``clouds.yaml`` entry (os-client-config format:
``auth.auth_url``, ``username``, ``password``, ``project_name``,
``user_domain_name``, ``project_domain_name``, ``region_name``,
``interface``; optional ``compute_endpoint_override`` and
``volume_endpoint_override`` - ``block_storage_endpoint_override``, the
openstacksdk spelling, is read too).
"""
import time

import requests
import yaml

# Seconds: (connect, read). A request to a host that vanished without a
# RST waits for the read timeout, so keep it short but above a slow build
# request on a loaded 2-core machine.
DEFAULT_TIMEOUT = (3.0, 15.0)
COMPUTE_MICROVERSION = "2.60"
# Block Storage microversion asked for (``OpenStack-API-Version: volume 3.x``);
# controlplane serves 3.0 - 3.60 (controlplane/api/volume/microversion.py).
# Nothing the drills do changes inside that range.
VOLUME_MICROVERSION = "3.60"
# Catalog types of the Block Storage API v3, in order of preference: the
# service-types authority name, then the legacy one (roles/keystone
# registers both at http://VIP:8776/v3/%(project_id)s).
VOLUME_SERVICE_TYPES = ("block-storage", "volumev3")
# clouds.yaml keys of a block-storage endpoint override, in order.
VOLUME_OVERRIDE_KEYS = ("volume_endpoint_override", "block_storage_endpoint_override",
                        "volumev3_endpoint_override")


class CloudConfig:
    """One cloud of a clouds.yaml file.

    :param clouds_file: path of clouds.yaml.
    :param cloud: cloud name (e.g. ``lab-demo``).
    :param compute_url: compute endpoint to use instead of the catalog's
        (``http://host:port/v2.1``); default: the cloud's
        ``compute_endpoint_override`` or the catalog.
    :param volume_url: block-storage endpoint to use instead of the
        catalog's (see :func:`volume_url_for`); default: the cloud's
        ``volume_endpoint_override`` (or ``block_storage_endpoint_override``)
        or the catalog.
    :raises KeyError: the cloud is not in the file.
    """

    def __init__(self, clouds_file, cloud, compute_url=None, volume_url=None):
        with open(clouds_file) as f:
            data = yaml.safe_load(f)
        entry = data["clouds"][cloud]
        self.name = cloud
        self.auth = entry["auth"]
        self.region = entry.get("region_name")
        self.interface = entry.get("interface", "public")
        self.compute_url = compute_url or entry.get("compute_endpoint_override")
        self.volume_url = volume_url or next(
            (entry[k] for k in VOLUME_OVERRIDE_KEYS if entry.get(k)), None)

    @property
    def auth_url(self):
        url = self.auth["auth_url"].rstrip("/")
        return url if url.endswith("/v3") else url + "/v3"

    def token_body(self):
        a = self.auth
        return {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": a["username"], "password": a["password"],
                "domain": {"name": a.get("user_domain_name", "Default")}}}},
            "scope": {"project": {
                "name": a["project_name"],
                "domain": {"name": a.get("project_domain_name", "Default")}}}}}


def compute_endpoint(catalog, region=None, interface="public", service_type="compute"):
    """The endpoint URL of a service type in a Keystone v3 token catalog.

    :param catalog: ``token["catalog"]`` (list of services).
    :returns: URL string, or None when there is no such service.
    """
    for service in catalog or []:
        if service.get("type") != service_type:
            continue
        for ep in service.get("endpoints", []):
            if ep.get("interface") != interface:
                continue
            if region and ep.get("region_id", ep.get("region")) not in (region, None):
                continue
            return ep["url"].rstrip("/")
    return None


def volume_endpoint(catalog, region=None, interface="public"):
    """The Block Storage v3 endpoint of a token catalog: the first of
    :data:`VOLUME_SERVICE_TYPES` present (Keystone has already put the
    project id in its URL).

    :returns: URL string (``http://VIP:8776/v3/<project_id>``) or None.
    """
    for service_type in VOLUME_SERVICE_TYPES:
        url = compute_endpoint(catalog, region, interface, service_type=service_type)
        if url:
            return url
    return None


def volume_url_for(override, project_id):
    """The project URL of a block-storage endpoint override.

    ``%(project_id)s``, ``$(project_id)s`` and ``{project_id}`` are replaced
    by the token's project; a URL without a ``/v3`` path (e.g.
    ``http://127.0.0.1:8776``) gets ``/v3/<project_id>`` appended, since
    every Block Storage v3 route lives under ``/v3/{project_id}``
    (controlplane/api/volume/app.py, Cinder's API reference).
    """
    url = override.rstrip("/")
    for placeholder in ("%(project_id)s", "$(project_id)s", "{project_id}",
                        "%(tenant_id)s", "$(tenant_id)s"):
        url = url.replace(placeholder, project_id or "")
    if "/v3" not in url:
        url += "/v3/" + (project_id or "")
    elif url.endswith("/v3"):
        url += "/" + (project_id or "")
    return url


class Session:
    """A token and an HTTP session for one workload client thread."""

    def __init__(self, config, timeout=DEFAULT_TIMEOUT):
        self.config = config
        self.timeout = timeout
        self.http = requests.Session()
        self.token = None
        self.project_id = None
        self.catalog = []
        self.compute_url = config.compute_url
        self.volume_url = None

    def reset(self):
        """Drop pooled connections (after a failure they may be dead)."""
        self.http.close()
        self.http = requests.Session()

    def authenticate(self):
        """POST /v3/auth/tokens. Returns the response; on 201 keeps the
        token, project id, compute endpoint and block-storage endpoint
        (``volume_url``: None when neither the catalog nor the config has
        one)."""
        resp = self.http.post(self.config.auth_url + "/auth/tokens",
                              json=self.config.token_body(), timeout=self.timeout)
        if resp.status_code == 201:
            body = resp.json()["token"]
            self.token = resp.headers["X-Subject-Token"]
            self.project_id = body["project"]["id"]
            self.catalog = body.get("catalog") or []
            if not self.config.compute_url:
                self.compute_url = compute_endpoint(body.get("catalog"), self.config.region,
                                                    self.config.interface)
            override = getattr(self.config, "volume_url", None)
            if override:
                self.volume_url = volume_url_for(override, self.project_id)
            else:
                self.volume_url = volume_endpoint(self.catalog, self.config.region,
                                                  self.config.interface)
        return resp

    def compute(self, method, path, json=None, params=None):
        """One Compute API request; returns the ``requests.Response``.

        :raises requests.RequestException: connection error or timeout.
        """
        headers = {"X-Auth-Token": self.token or "",
                   "OpenStack-API-Version": "compute " + COMPUTE_MICROVERSION,
                   "X-OpenStack-Nova-API-Version": COMPUTE_MICROVERSION}
        return self.http.request(method, self.compute_url + path, json=json, params=params,
                                 headers=headers, timeout=self.timeout)

    def volume(self, method, path, json=None, params=None):
        """One Block Storage v3 request (``path`` relative to
        ``/v3/{project_id}``, e.g. ``/volumes/detail``); returns the
        ``requests.Response``.

        :raises LookupError: no block-storage endpoint (not authenticated,
            or none in the catalog and no override).
        :raises requests.RequestException: connection error or timeout.
        """
        if not self.volume_url:
            raise LookupError("no block-storage endpoint")
        headers = {"X-Auth-Token": self.token or "",
                   "OpenStack-API-Version": "volume " + VOLUME_MICROVERSION}
        return self.http.request(method, self.volume_url + path, json=json, params=params,
                                 headers=headers, timeout=self.timeout)


def resolve_image(session, image):
    """Image id for a name or id, through Glance's endpoint in the catalog.

    :raises LookupError: no such image, or no image service.
    """
    url = compute_endpoint(session.catalog, session.config.region,
                           session.config.interface, service_type="image")
    if url is None:
        raise LookupError("no image service in the catalog")
    resp = session.http.get(url + "/v2/images", params={"name": image},
                            headers={"X-Auth-Token": session.token}, timeout=session.timeout)
    resp.raise_for_status()
    images = resp.json().get("images", [])
    if not images:
        resp = session.http.get(url + "/v2/images/" + image,
                                headers={"X-Auth-Token": session.token},
                                timeout=session.timeout)
        if resp.status_code == 200:
            return resp.json()["id"]
        raise LookupError("image %r not found" % image)
    return images[0]["id"]


def resolve_flavor(session, flavor):
    """Flavor id for a name or id (GET /flavors).

    :raises LookupError: no such flavor.
    """
    resp = session.compute("GET", "/flavors")
    resp.raise_for_status()
    for f in resp.json()["flavors"]:
        if flavor in (f["id"], f["name"]):
            return f["id"]
    raise LookupError("flavor %r not found" % flavor)


def now():
    """Wall-clock seconds (epoch): journals of several processes line up."""
    return time.time()
