"""Projects, users, role assignments and catalog entries in Keystone.

All made through the Keystone v3 REST API as the bootstrap admin, each
"find by name, create if missing" so that running it again changes
nothing. Users get the password of their secret file (reset if a login
with it fails).
"""

import hashlib
import logging
from urllib.parse import quote

from . import config, rest

LOG = logging.getLogger(__name__)

K = config.KEYSTONE_URL
DOMAIN_ID = "default"
CATALOG = {  # service type -> (service name, url)
    "compute": ("nova", config.COMPUTE_URL),
    "image": ("glance", config.GLANCE_URL),
    "block-storage": ("cinder", config.VOLUME_URL),
    "volumev3": ("cinderv3", config.VOLUME_URL),
}
INTERFACES = ("public", "internal", "admin")


class Keystone:
    """Idempotent helpers bound to one admin token."""

    def __init__(self, admin_password: str):
        self.token = rest.password_token("admin", admin_password, "admin")

    def _get(self, path):
        return rest.request("GET", K + path, token=self.token)[2]

    def _post(self, path, body):
        return rest.request("POST", K + path, body, token=self.token)[2]

    def _find_or_create(self, coll: str, key: str, query: str, body: dict) -> dict:
        found = self._get(f"/{coll}?{query}")[coll]
        if found:
            return found[0]
        LOG.info("creating %s %s", key, body.get("name") or body.get("type"))
        return self._post(f"/{coll}", {key: body})[key]

    def project(self, name: str, description: str = "") -> dict:
        """The Default-domain project ``name``, created if missing."""
        return self._find_or_create(
            "projects", "project", f"name={quote(name)}&domain_id={DOMAIN_ID}",
            {"name": name, "domain_id": DOMAIN_ID, "enabled": True,
             "description": description or f"devenv project {name}"})

    def role(self, name: str) -> dict:
        """Role ``name`` (bootstrap makes admin/member/reader/service)."""
        return self._find_or_create("roles", "role", f"name={quote(name)}",
                                    {"name": name})

    def user(self, name: str, password: str, project: dict) -> dict:
        """User ``name`` with ``password``; an existing user whose login with
        ``password`` fails gets its password reset."""
        found = self._get(f"/users?name={quote(name)}&domain_id={DOMAIN_ID}")["users"]
        if not found:
            LOG.info("creating user %s", name)
            user = self._post("/users", {"user": {
                "name": name, "password": password, "domain_id": DOMAIN_ID,
                "default_project_id": project["id"], "enabled": True}})["user"]
            self._remember(user, password)
            return user
        user = found[0]
        if self._verified(user, password):
            return user
        try:
            rest.password_token(name, password, None)
        except rest.HTTPFailure:
            LOG.info("resetting the password of user %s", name)
            rest.request("PATCH", f"{K}/users/{user['id']}",
                         {"user": {"password": password, "enabled": True}},
                         token=self.token)
        self._remember(user, password)
        return user

    # A login costs Keystone a password hash (~0.5 s): remember which
    # (user id, password) pairs were already checked in a private file.
    _VERIFIED = ("keystone", ".verified-users")

    @staticmethod
    def _stamp(user: dict, password: str) -> str:
        return hashlib.sha256(f"{user['id']}:{password}".encode()).hexdigest()

    def _verified(self, user: dict, password: str) -> bool:
        f = config.path(*self._VERIFIED)
        return f.exists() and self._stamp(user, password) in f.read_text().split()

    def _remember(self, user: dict, password: str) -> None:
        f = config.path(*self._VERIFIED)
        old = f.read_text() if f.exists() else ""
        config.write_private(f, old + self._stamp(user, password) + "\n")

    def grant(self, user: dict, project: dict, role: dict) -> None:
        """Give ``user`` ``role`` on ``project`` (PUT is idempotent)."""
        rest.request("PUT", f"{K}/projects/{project['id']}/users/{user['id']}"
                            f"/roles/{role['id']}", token=self.token)

    def service(self, stype: str, name: str) -> dict:
        """Catalog service of type ``stype``."""
        return self._find_or_create(
            "services", "service", f"type={quote(stype)}",
            {"type": stype, "name": name, "enabled": True})

    def endpoint(self, service: dict, interface: str, url: str) -> None:
        """Endpoint of ``service`` for ``interface`` in RegionOne at ``url``
        (an existing one with another url is updated)."""
        found = self._get(f"/endpoints?service_id={service['id']}"
                          f"&interface={interface}&region_id={config.REGION}")["endpoints"]
        if not found:
            LOG.info("creating %s endpoint of %s: %s", interface, service["type"], url)
            self._post("/endpoints", {"endpoint": {
                "service_id": service["id"], "interface": interface, "url": url,
                "region_id": config.REGION, "enabled": True}})
        elif found[0]["url"] != url:
            rest.request("PATCH", f"{K}/endpoints/{found[0]['id']}",
                         {"endpoint": {"url": url}}, token=self.token)


def ensure_resources() -> dict:
    """Create everything devenv promises in Keystone; return
    {"projects": {name: id}, "users": {name: id}}."""
    ks = Keystone(config.secret("admin_password"))
    roles = {r: ks.role(r) for r in ("admin", "member", "reader", "service")}
    projects = {p: ks.project(p) for p in
                ("admin", config.SERVICE_PROJECT, "demo", "alt_demo")}
    users = {}
    for name in config.SERVICE_USERS:
        u = ks.user(name, config.secret(f"{name}_service_password"),
                    projects[config.SERVICE_PROJECT])
        for r in config.SERVICE_USER_ROLES:
            ks.grant(u, projects[config.SERVICE_PROJECT], roles[r])
        users[name] = u["id"]
    for name, (proj, role) in config.PROJECT_USERS.items():
        u = ks.user(name, config.secret(f"{name}_password"), projects[proj])
        ks.grant(u, projects[proj], roles[role])
        users[name] = u["id"]
    for stype, (sname, url) in CATALOG.items():
        svc = ks.service(stype, sname)
        for iface in INTERFACES:
            ks.endpoint(svc, iface, url)
    return {"projects": {k: v["id"] for k, v in projects.items()}, "users": users}
