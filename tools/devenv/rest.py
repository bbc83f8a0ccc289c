"""A tiny JSON-over-HTTP client (urllib) for the Keystone and Glance APIs."""

import json
import urllib.error
import urllib.request

from . import config


class HTTPFailure(RuntimeError):
    """A request answered with an unexpected status."""

    def __init__(self, method, url, status, body):
        super().__init__(f"{method} {url} -> {status}: {body[:500]!r}")
        self.status = status


def request(method: str, url: str, body=None, token: str | None = None,
            headers: dict | None = None, data: bytes | None = None,
            ok=(200, 201, 202, 204), timeout: float = 30.0):
    """Send a request; return (status, headers, parsed JSON or None).

    ``body`` is sent as JSON; ``data`` as raw bytes (octet-stream unless
    ``headers`` says otherwise). Raises HTTPFailure for a status not in ``ok``.
    """
    hdrs = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    elif data is not None:
        hdrs["Content-Type"] = "application/octet-stream"
    if token:
        hdrs["X-Auth-Token"] = token
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, rhdrs, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        status, rhdrs, raw = exc.code, exc.headers, exc.read()
    if status not in ok:
        raise HTTPFailure(method, url, status, raw)
    parsed = None
    if raw and "json" in (rhdrs.get("Content-Type") or ""):
        parsed = json.loads(raw)
    return status, rhdrs, parsed


def password_token(username: str, password: str, project: str | None,
                   domain: str = config.DOMAIN) -> str:
    """A project-scoped (or unscoped) Keystone token for a Default-domain user."""
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": username, "domain": {"name": domain}, "password": password}}}}
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"name": domain}}}
    _s, hdrs, _b = request("POST", f"{config.KEYSTONE_URL}/auth/tokens",
                           {"auth": auth}, ok=(201,))
    return hdrs["X-Subject-Token"]
