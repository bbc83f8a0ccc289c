"""Plain HTTP helpers of the lab tests (no client library in the lab venv):
one JSON request, and a Keystone v3 password login through a clouds.yaml
entry (the VIP)."""
import json
import os
import urllib.error
import urllib.request

#: clouds.yaml written by playbooks/site.yml (roles/keystone).
CLOUDS = os.environ.get("CONTROLPLANE_LAB_CLOUDS", "/var/lib/controlplane-lab/clouds.yaml")


def request(method, url, body=None, token=None, headers=None, timeout=30):
    """One HTTP request.

    :param body: JSON-able request body or None.
    :param token: Keystone token for ``X-Auth-Token``.
    :param headers: extra request headers.
    :param timeout: seconds.
    :returns: ``(status, response headers, parsed JSON body or None)``;
        an HTTP error status is returned, not raised.
    """
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw, status, hdrs = res.read(), res.status, res.headers
    except urllib.error.HTTPError as exc:
        raw, status, hdrs = exc.read(), exc.code, exc.headers
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, hdrs, parsed


def login(cloud):
    """Project-scoped password token (POST /v3/auth/tokens) for a
    clouds.yaml entry, through its ``auth.auth_url``.

    :returns: ``{"token", "project_id", "catalog"}``.
    :raises AssertionError: Keystone did not answer 201.
    """
    auth = cloud["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"],
        "domain": {"name": auth.get("user_domain_name", "Default")}}}},
        "scope": {"project": {"name": auth["project_name"],
                              "domain": {"name": auth.get("project_domain_name", "Default")}}}}}
    status, headers, data = request("POST", auth["auth_url"].rstrip("/") + "/auth/tokens", body)
    assert status == 201, data
    return {"token": headers["X-Subject-Token"], "project_id": data["token"]["project"]["id"],
            "catalog": data["token"]["catalog"]}
