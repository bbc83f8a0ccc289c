"""Helpers shared by every API test (tests/unit/test_api_*.py and
tests/integration/test_api_*.py); their fixtures (``api``, ``cell1``,
``env``) are in tests/unit/conftest.py.

* :class:`ApiClient`: Flask/werkzeug test client on the WSGI app adding the
  noauth2 identity headers and the ``OpenStack-API-Version`` microversion.
* Personas :data:`ADMIN`, :data:`MEMBER`, :data:`READER`, :data:`OTHER`
  (who= of a request), :data:`MAX` (the newest microversion served).
* :func:`check`: validate a response against tempest's response schema;
  :func:`assert_fault`: an OpenStack fault body with a given status.
* Data builders: :func:`boot_body`, :func:`place` (what conductor and
  compute would do with a build request), :func:`add_service` (a service,
  compute node and host mapping), :class:`Casts` (records RPC casts).
* :func:`wipe_tables`: empty every table of a migrated database.
"""
import importlib
import json

from controlplane.db import engine as db_engine

TEMPEST = "tempest.lib.api_schema.response.compute."
MAX = "2.60"
ADMIN = {"user": "admin-user", "project": "admin-project", "roles": "admin,member,reader"}
MEMBER = {"user": "alice", "project": "proj-a", "roles": "member,reader"}
READER = {"user": "rita", "project": "proj-a", "roles": "reader"}
OTHER = {"user": "bob", "project": "proj-b", "roles": "member,reader"}
#: the image the fake Glance of the ``env`` fixture knows
IMAGE = "155d900f-4e14-4e4c-a73d-069cbf4541e6"


class _Resp:
    def __init__(self, status):
        self.status = status


def schema(module, name):
    """``schema("v2_53.services", "list_services")`` → the tempest schema dict."""
    return getattr(importlib.import_module(TEMPEST + module), name)


def check(module, name, resp):
    """Validate a test response against tempest's ``<module>.<name>`` schema
    (e.g. ``check("v2_1.servers", "get_server", r)``): status and body.
    Returns the decoded body ("" when the response has none)."""
    from tempest.lib.common.rest_client import RestClient
    body = resp.get_json(silent=True) if resp.data else ""
    RestClient.validate_response(schema(module, name), _Resp(resp.status_code), body)
    return body


def assert_fault(resp, code):
    """Assert an OpenStack fault body (``{"<kind>": {"code", "message"}}``)
    with status ``code``; returns the message."""
    assert resp.status_code == code, (resp.status_code, resp.data)
    body = resp.get_json()
    (_key, inner), = body.items()
    assert inner["code"] == code and inner["message"], body
    return inner["message"]


class ApiClient:
    """Flask/werkzeug test client of a WSGI app adding identity and
    microversion headers.

    :param wsgi: the WSGI application (``create_app(conf)``).
    :param who: default persona of requests (a dict like :data:`MEMBER`).
    """

    def __init__(self, wsgi, who=MEMBER):
        from flask.wrappers import Response
        from werkzeug.test import Client
        self.client = Client(wsgi, response_wrapper=Response)
        self.who = who

    def request(self, method, path, body=None, who=..., version=None, raw=None,
                headers=None, prefix="/v2.1"):
        """Send ``method prefix+path``.

        :param body: JSON-encoded when given; :param raw: the body as is.
        :param who: persona dict, None for no identity headers (default:
            the client's persona).
        :param version: microversion for ``OpenStack-API-Version``.
        :param headers: more headers. :returns: a Flask ``Response``.
        """
        who = self.who if who is ... else who
        hdrs = {}
        if who is not None:
            hdrs.update({"X-User-Id": who["user"], "X-Project-Id": who["project"],
                         "X-Roles": who["roles"]})
        if version:
            hdrs["OpenStack-API-Version"] = "compute %s" % version
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        return self.client.open(prefix + path, method=method, headers=hdrs, data=data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class Casts:
    """Stands for an RPC client: records every cast as ``(method, args,
    kwargs)`` in :attr:`calls` instead of sending it."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)

        def record(ctxt, *args, **kwargs):
            self.calls.append((method, args, kwargs))
        return record

    def of(self, method):
        """The recorded casts of ``method``."""
        return [c for c in self.calls if c[0] == method]


def wipe_tables(url, metadata):
    """Delete every row of the tables of ``metadata`` in the database at
    ``url`` (foreign key checks off), so that a database migrated once per
    session starts each test empty."""
    import sqlalchemy as sa
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with eng.begin() as conn:
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table in metadata.sorted_tables:
            conn.execute(table.delete())
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    eng.dispose()


def boot_body(name="vm", flavor="1", image=IMAGE, **extra):
    """A minimal ``POST /servers`` body."""
    server = {"name": name, "flavorRef": flavor, "imageRef": image}
    server.update(extra)
    return {"server": server}


def place(env, server_id, cell=None, host="host1", vm_state="active", task_state=None,
          power_state=1):
    """Do what the conductor and compute would: create the instance from its
    build request in a cell (default ``env.cell1``), map it, drop the build
    request. Returns the instance dict."""
    from controlplane.db import build_requests, cells, instances
    br = build_requests.get_build_request(server_id)
    cell = cell or env.cell1
    values = dict(br["instance"], host=host, node=host if host else None,
                  vm_state=vm_state, task_state=task_state, power_state=power_state)
    engine = db_engine.cell_engine(cell)
    inst = instances.create_instance(engine, values)
    cells.set_instance_mapping_cell(server_id, cell["id"])
    build_requests.delete_build_request(server_id)
    return inst


def add_service(cell, host, binary="controlplane-compute", node=True, **values):
    """Register a service (and for compute a node of 16 vCPUs / 32 GiB /
    500 GiB and a host mapping) in ``cell``; extra ``values`` go to
    ``update_service``. Returns the service dict."""
    from controlplane.db import cells, compute_nodes, services
    eng = db_engine.cell_engine(cell)
    svc = services.create_or_get_service(eng, host, binary)
    if values:
        svc = services.update_service(eng, svc["id"], values)
    if binary == "controlplane-compute":
        cells.map_host(host, cell["uuid"])
        if node:
            compute_nodes.upsert_compute_node(eng, {
                "host": host, "hypervisor_hostname": host + ".example", "service_id": svc["id"],
                "vcpus": 16, "memory_mb": 32768, "local_gb": 500, "host_ip": "192.0.2.10",
                "cpu_info": '{"arch": "x86_64"}', "hypervisor_type": "fake",
                "hypervisor_version": 1000})
    return svc
