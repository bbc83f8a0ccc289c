#!/usr/bin/python3
# Apache-2.0
"""Ansible module: projects, users, role assignments and catalog entries in
Keystone, through the Identity v3 REST API (Python standard library only).

openstack.cloud ships inside the `ansible` package but needs openstacksdk
on the host that runs it; this module needs nothing but python3, so it runs
on a controller of the deployment itself.
"""
import json
import urllib.error
import urllib.parse
import urllib.request

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: keystone_resources
short_description: Ensure Keystone projects, users, roles and catalog entries
description:
  - Finds each resource by name (users and projects in one domain,
    services by type, endpoints by service, interface and region) and
    creates what is missing. An endpoint with another URL is updated.
  - A user whose password does not authenticate any more gets it reset
    (one login per user per run).
  - Reports changed only when something was created or updated.
options:
  auth_url: {type: str, required: true, description: "Identity v3 URL, e.g. http://10.0.0.11:5000/v3"}
  username: {type: str, default: admin, description: Admin user.}
  password: {type: str, required: true, no_log: true, description: Admin password.}
  project: {type: str, default: admin, description: Project the admin token is scoped to.}
  domain: {type: str, default: default, description: Domain id of every project and user.}
  region: {type: str, default: RegionOne, description: Region of the endpoints.}
  roles: {type: list, elements: str, default: [], description: Roles that must exist.}
  projects:
    type: list
    elements: dict
    default: []
    description: "[{name, description}]"
  users:
    type: list
    elements: dict
    default: []
    description: "[{name, password, project, roles}]: roles are granted on project; password is no_log."
  services:
    type: list
    elements: dict
    default: []
    description:
      - "[{type, name, description, endpoints: {public: URL, internal: URL, admin: URL}}]"
      - "or {type, name, url}: the same url for the three interfaces."
  timeout: {type: int, default: 30, description: Seconds per HTTP request.}
"""

RETURN = r"""
created:
  description: What was created or updated, e.g. "project demo".
  type: list
  returned: always
projects:
  description: "{name: id} of the projects."
  type: dict
  returned: always
users:
  description: "{name: id} of the users."
  type: dict
  returned: always
"""


class KeystoneError(Exception):
    """An HTTP request to Keystone failed (status, body)."""


class Keystone:
    """Thin Identity v3 client bound to one token."""

    def __init__(self, module):
        self.module = module
        self.url = module.params["auth_url"].rstrip("/")
        self.timeout = module.params["timeout"]
        self.domain = module.params["domain"]
        self.token = None
        self.changes = []

    def request(self, method, path, body=None, ok=(200, 201, 204), token=True):
        """(status, headers, json-or-None); KeystoneError when status not in ok."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token and self.token:
            req.add_header("X-Auth-Token", self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                status, headers, raw = res.status, res.headers, res.read()
        except urllib.error.HTTPError as exc:
            status, headers, raw = exc.code, exc.headers, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise KeystoneError("%s %s: %s" % (method, self.url + path, exc))
        if status not in ok:
            raise KeystoneError("%s %s answered %d: %s" % (
                method, self.url + path, status, raw[:500].decode(errors="replace")))
        return status, headers, (json.loads(raw) if raw else None)

    def password_token(self, user, password, project=None):
        """A token for user (scoped to project in self.domain if given), or None on 401."""
        auth = {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": self.domain}, "password": password}}}}
        if project:
            auth["scope"] = {"project": {"name": project, "domain": {"id": self.domain}}}
        status, headers, _ = self.request("POST", "/auth/tokens", {"auth": auth},
                                          ok=(201, 401), token=False)
        return headers.get("X-Subject-Token") if status == 201 else None

    def login(self, user, password, project):
        self.token = self.password_token(user, password, project)
        if not self.token:
            raise KeystoneError("admin login as %s failed (401)" % user)

    def find(self, coll, **query):
        return self.request("GET", "/%s?%s" % (coll, urllib.parse.urlencode(query)))[2][coll]

    def create(self, coll, key, body, label):
        self.changes.append(label)
        if self.module.check_mode:
            return dict(body, id="(check mode)")
        return self.request("POST", "/" + coll, {key: body})[2][key]

    def role(self, name):
        found = self.find("roles", name=name)
        return found[0] if found else self.create("roles", "role", {"name": name}, "role " + name)

    def project(self, spec):
        found = self.find("projects", name=spec["name"], domain_id=self.domain)
        if found:
            return found[0]
        return self.create("projects", "project", {
            "name": spec["name"], "domain_id": self.domain, "enabled": True,
            "description": spec.get("description") or ""}, "project " + spec["name"])

    def user(self, spec, project):
        found = self.find("users", name=spec["name"], domain_id=self.domain)
        if not found:
            return self.create("users", "user", {
                "name": spec["name"], "password": spec["password"], "domain_id": self.domain,
                "default_project_id": project["id"], "enabled": True}, "user " + spec["name"])
        user = found[0]
        if self.password_token(spec["name"], spec["password"]) is None:
            self.changes.append("password of user " + spec["name"])
            if not self.module.check_mode:
                self.request("PATCH", "/users/" + user["id"],
                             {"user": {"password": spec["password"], "enabled": True}})
        return user

    def grant(self, user, project, role):
        path = "/projects/%s/users/%s/roles/%s" % (project["id"], user["id"], role["id"])
        if self.module.check_mode and "(check mode)" in path:
            self.changes.append("grant %s to %s on %s" % (role["name"], user["name"], project["name"]))
            return
        status = self.request("HEAD", path, ok=(200, 204, 404))[0]
        if status == 404:
            self.changes.append("grant %s to %s on %s" % (role["name"], user["name"], project["name"]))
            if not self.module.check_mode:
                self.request("PUT", path)

    def service(self, spec, region):
        found = self.find("services", type=spec["type"])
        svc = found[0] if found else self.create("services", "service", {
            "type": spec["type"], "name": spec["name"], "enabled": True,
            "description": spec.get("description") or ""}, "service " + spec["type"])
        endpoints = spec.get("endpoints") or {}
        if not endpoints and spec.get("url"):
            endpoints = {i: spec["url"] for i in ("public", "internal", "admin")}
        for interface, url in sorted(endpoints.items()):
            ep = [] if svc["id"] == "(check mode)" else self.find(
                "endpoints", service_id=svc["id"], interface=interface, region_id=region)
            label = "%s endpoint of %s: %s" % (interface, spec["type"], url)
            if not ep:
                self.create("endpoints", "endpoint", {
                    "service_id": svc["id"], "interface": interface, "url": url,
                    "region_id": region, "enabled": True}, label)
            elif ep[0]["url"] != url:
                self.changes.append(label)
                if not self.module.check_mode:
                    self.request("PATCH", "/endpoints/" + ep[0]["id"], {"endpoint": {"url": url}})
        return svc


def run(module):
    p = module.params
    ks = Keystone(module)
    ks.login(p["username"], p["password"], p["project"])
    roles = {}
    wanted_roles = set(p["roles"])
    for u in p["users"]:
        wanted_roles.update(u.get("roles") or [])
    for name in sorted(wanted_roles):
        roles[name] = ks.role(name)
    projects = {}
    for spec in p["projects"]:
        projects[spec["name"]] = ks.project(spec)
    users = {}
    for spec in p["users"]:
        proj = projects.get(spec["project"]) or ks.project({"name": spec["project"]})
        projects[spec["project"]] = proj
        user = ks.user(spec, proj)
        users[spec["name"]] = user
        for role in spec.get("roles") or []:
            ks.grant(user, proj, roles[role])
    for spec in p["services"]:
        ks.service(spec, p["region"])
    return {"changed": bool(ks.changes), "created": ks.changes,
            "projects": {k: v["id"] for k, v in projects.items()},
            "users": {k: v["id"] for k, v in users.items()}}


def main():
    module = AnsibleModule(
        argument_spec={
            "auth_url": {"type": "str", "required": True},
            "username": {"type": "str", "default": "admin"},
            "password": {"type": "str", "required": True, "no_log": True},
            "project": {"type": "str", "default": "admin"},
            "domain": {"type": "str", "default": "default"},
            "region": {"type": "str", "default": "RegionOne"},
            "roles": {"type": "list", "elements": "str", "default": []},
            "users": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "password": {"type": "str", "required": True, "no_log": True},
                "project": {"type": "str", "required": True},
                "roles": {"type": "list", "elements": "str", "default": []},
            }},
            "projects": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "description": {"type": "str", "default": ""},
            }},
            "services": {"type": "list", "elements": "dict", "default": [], "options": {
                "type": {"type": "str", "required": True},
                "name": {"type": "str", "required": True},
                "description": {"type": "str", "default": ""},
                "endpoints": {"type": "dict", "default": {}},
                "url": {"type": "str"},
            }},
            "timeout": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module))
    except KeystoneError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
