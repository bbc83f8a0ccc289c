"""Shared fixtures of the admin/catalogue API resource tests
(tests/unit/test_api_{flavors,aggregates,az,services,hypervisors,keypairs,
server_groups}*.py).

``api`` gives an :class:`ApiClient` on the full WSGI app (noauth2, no rate
limit) over a fresh migrated API database and one cell database registered
as ``cell1``. Every successful response can be checked against tempest's
response schema with :func:`check`.
"""
import importlib
import json
import uuid

import pytest

from controlplane.db import engine as db_engine

TEMPEST = "tempest.lib.api_schema.response.compute."
MAX = "2.60"
ADMIN = {"user": "admin-user", "project": "admin-project", "roles": "admin,member,reader"}
MEMBER = {"user": "alice", "project": "proj-a", "roles": "member,reader"}
READER = {"user": "rita", "project": "proj-a", "roles": "reader"}
OTHER = {"user": "bob", "project": "proj-b", "roles": "member,reader"}


class _Resp:
    def __init__(self, status):
        self.status = status


def schema(module, name):
    """``schema("v2_53.services", "list_services")`` → the tempest schema dict."""
    return getattr(importlib.import_module(TEMPEST + module), name)


def check(module, name, resp):
    """Validate a Flask test response against a tempest schema (status and body)."""
    from tempest.lib.common.rest_client import RestClient
    body = resp.get_json(silent=True) if resp.data else None
    if not resp.data:
        body = ""
    RestClient.validate_response(schema(module, name), _Resp(resp.status_code), body)
    return body


class ApiClient:
    """Thin wrapper of Flask's test client adding identity/version headers."""

    def __init__(self, client):
        self.client = client

    def request(self, method, path, body=None, who=ADMIN, version=None, raw=None):
        headers = {"X-User-Id": who["user"], "X-Project-Id": who["project"],
                   "X-Roles": who["roles"]}
        if version:
            headers["OpenStack-API-Version"] = "compute %s" % version
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        return self.client.open("/v2.1" + path, method=method, headers=headers, data=data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture(scope="session")
def _res_dbs(mysql_server_url):
    """One migrated API and one cell database for the whole session
    (migrating per test costs seconds); rows are wiped before each test."""
    from tests.conftest import _drop_db, _make_db
    api_name, api_url = _make_db(mysql_server_url, "api", "t_apires")
    cell_name, cell_url = _make_db(mysql_server_url, "cell", "t_cellres")
    yield api_url, cell_url
    _drop_db(mysql_server_url, api_name)
    _drop_db(mysql_server_url, cell_name)


def _wipe(url, metadata):
    import sqlalchemy as sa
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with eng.begin() as conn:
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table in metadata.sorted_tables:
            conn.execute(table.delete())
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    eng.dispose()


@pytest.fixture
def cell1(conf, _res_dbs):
    """Empty API and cell databases set in CONF; the cell is mapped as
    ``cell1`` (plus a cell0 mapping). Yields the cell1 mapping dict."""
    from controlplane.db import cells, models_api, models_cell
    api_url, cell_url = _res_dbs
    _wipe(api_url, models_api.ApiBase.metadata)
    _wipe(cell_url, models_cell.CellBase.metadata)
    conf.set_override("connection", api_url, "api_database")
    conf.set_override("connection", cell_url, "database")
    cells.create_cell_mapping(db_engine.CELL0_UUID, "cell0", "rabbit://", cell_url)
    yield cells.create_cell_mapping(str(uuid.uuid4()), "cell1", "rabbit://", cell_url)
    db_engine.dispose_all()


@pytest.fixture
def api(conf, cell1):
    """An :class:`ApiClient` on ``create_app`` (noauth2, rate limit off)."""
    from controlplane import policies
    from controlplane.api import app as app_mod
    conf.set_override("auth_strategy", "noauth2", "api")
    conf.set_override("enabled", False, "rate_limit")
    policies.reset()
    wsgi = app_mod.create_app(conf)
    from flask.wrappers import Response
    from werkzeug.test import Client
    yield ApiClient(Client(wsgi, response_wrapper=Response))
    policies.reset()


def assert_fault(resp, code):
    """The response is an OpenStack fault with status ``code``."""
    assert resp.status_code == code, (resp.status_code, resp.data)
    body = resp.get_json()
    (key, inner), = body.items()
    assert inner["code"] == code and inner["message"]
    return inner["message"]


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
