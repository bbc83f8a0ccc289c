"""Fixtures of the API-core tests (tests/unit/test_api_{core,servers,quota,
versions,limits}*.py); import them with ``from tests.unit.test_api_core_fixtures
import *``.

``env`` gives the full WSGI app (noauth2, rate limit off) over real MariaDB
databases made once per session (API, cell0, cell1; rows wiped per test), a
fake Glance (``env.images``), fake RPC clients recording casts
(``env.casts``) and two flavors (``1`` m1.tiny, ``2`` m1.small). Responses
are validated against tempest's schemas with :func:`check`.
"""
import importlib
import json
import uuid

import pytest

from controlplane.db import engine as db_engine

TEMPEST = "tempest.lib.api_schema.response.compute."
ADMIN = {"user": "admin-user", "project": "admin-project", "roles": "admin,member,reader"}
MEMBER = {"user": "alice", "project": "proj-a", "roles": "member,reader"}
READER = {"user": "rita", "project": "proj-a", "roles": "reader"}
OTHER = {"user": "bob", "project": "proj-b", "roles": "member,reader"}
IMAGE = "155d900f-4e14-4e4c-a73d-069cbf4541e6"


class _Resp:
    def __init__(self, status):
        self.status = status


def check(module, name, resp):
    """Validate a test response against tempest's ``<module>.<name>`` schema
    (e.g. ``check("v2_1.servers", "get_server", r)``); returns the body."""
    from tempest.lib.common.rest_client import RestClient
    schema = getattr(importlib.import_module(TEMPEST + module), name)
    body = resp.get_json(silent=True) if resp.data else ""
    RestClient.validate_response(schema, _Resp(resp.status_code), body)
    return body


def fault(resp, code):
    """Assert an OpenStack fault body with status ``code``; returns the message."""
    assert resp.status_code == code, (resp.status_code, resp.data)
    body = resp.get_json()
    (key, inner), = body.items()
    assert inner["code"] == code and inner["message"], body
    return inner["message"]


class Client:
    """Flask/werkzeug test client adding identity and microversion headers."""

    def __init__(self, wsgi):
        from flask.wrappers import Response
        from werkzeug.test import Client as WzClient
        self.client = WzClient(wsgi, response_wrapper=Response)

    def request(self, method, path, body=None, who=MEMBER, version=None, raw=None,
                headers=None, prefix="/v2.1"):
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
    """Records RPC casts instead of sending them."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)

        def record(ctxt, *args, **kwargs):
            self.calls.append((method, args, kwargs))
        return record

    def of(self, method):
        return [c for c in self.calls if c[0] == method]


def _wipe(url, metadata):
    import sqlalchemy as sa
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with eng.begin() as conn:
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table in metadata.sorted_tables:
            conn.execute(table.delete())
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    eng.dispose()


_DBS = []


@pytest.fixture(scope="session")
def _core_dbs(mysql_server_url, request):
    """API, cell0 and cell1 databases, made once per test run (every test
    module imports this fixture; the first one makes them) and dropped at
    the end of the run."""
    if not _DBS:
        from tests.conftest import _drop_db, _make_db
        made = [_make_db(mysql_server_url, "api", "test_apicore_api"),
                _make_db(mysql_server_url, "cell", "test_apicore_cell0"),
                _make_db(mysql_server_url, "cell", "test_apicore_cell1")]
        _DBS.extend(url for _n, url in made)

        def drop():
            for name, _url in made:
                _drop_db(mysql_server_url, name)
            _DBS.clear()
        request.config.add_cleanup(drop)
    return list(_DBS)


class Env:
    pass


@pytest.fixture
def env(conf, _core_dbs, monkeypatch):
    from controlplane import policies
    from controlplane.api import app as app_mod
    from controlplane.api.compute import server_actions, servers
    from controlplane.db import cells, flavors, models_api, models_cell
    from controlplane.image import glance

    api_url, cell0_url, cell1_url = _core_dbs
    _wipe(api_url, models_api.ApiBase.metadata)
    _wipe(cell0_url, models_cell.CellBase.metadata)
    _wipe(cell1_url, models_cell.CellBase.metadata)
    conf.set_override("connection", api_url, "api_database")
    conf.set_override("connection", cell1_url, "database")
    conf.set_override("auth_strategy", "noauth2", "api")
    conf.set_override("enabled", False, "rate_limit")
    e = Env()
    e.cell0 = cells.create_cell_mapping(db_engine.CELL0_UUID, "cell0", "rabbit://c0/",
                                        cell0_url)
    e.cell1 = cells.create_cell_mapping(str(uuid.uuid4()), "cell1", "rabbit://c1/",
                                        cell1_url)
    flavors.create_flavor({"flavorid": "1", "name": "m1.tiny", "memory_mb": 512,
                           "vcpus": 1, "root_gb": 1})
    flavors.create_flavor({"flavorid": "2", "name": "m1.small", "memory_mb": 2048,
                           "vcpus": 2, "root_gb": 20,
                           "extra_specs": {"hw:cpu_policy": "shared"}})
    e.images = {IMAGE: {"id": IMAGE, "name": "cirros", "status": "active", "min_ram": 0,
                        "min_disk": 0, "size": 1, "properties": {"os_distro": "cirros"}}}

    def fake_get_image(ctxt, image_id):
        if image_id not in e.images:
            raise glance.ImageNotFound(image_id=image_id)
        return e.images[image_id]
    monkeypatch.setattr(glance, "get_image", fake_get_image)
    e.casts = Casts()
    monkeypatch.setattr(servers, "_conductor", e.casts)
    monkeypatch.setattr(server_actions, "_compute", e.casts)
    policies.reset()
    e.wsgi = app_mod.create_app(conf)
    e.api = Client(e.wsgi)
    e.conf = conf
    yield e
    policies.reset()
    db_engine.dispose_all()


def boot_body(name="vm", flavor="1", image=IMAGE, **extra):
    """A minimal POST /servers body."""
    server = {"name": name, "flavorRef": flavor, "imageRef": image}
    server.update(extra)
    return {"server": server}


def place(env, server_id, cell=None, host="host1", vm_state="active", task_state=None,
          power_state=1):
    """Do what the conductor and compute would: create the instance from its
    build request in a cell, map it, drop the build request."""
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
