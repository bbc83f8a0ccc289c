"""Fixtures shared by the unit tests (the integration API tests import the
ones they use from here). Helpers and personas of the API tests are in
:mod:`tests.unit.api_client`.

* ``engine``: a cell database on SQLite (tables made with ``create_all``)
  in the test's tmp_path, for the db/, service and compute tests.

API tests (tests/unit/test_api_*.py):

* ``api_dbs`` (session): a migrated API database and two migrated cell
  databases (cell0, cell1) on the real MariaDB, made once per run —
  migrating per test costs seconds — and dropped at the end.
* ``cell_mappings``: those databases emptied, set as ``[api_database]`` /
  ``[database] connection`` and mapped as ``cell0`` (``rabbit://c0/``) and
  ``cell1`` (``rabbit://c1/``); yields ``{"cell0": dict, "cell1": dict}``.
  ``cell1`` yields the cell1 mapping alone.
* ``wsgi_app``: ``create_app`` with noauth2 and the rate limit off.
* ``api``: an :class:`~tests.unit.api_client.ApiClient` on it acting as
  ADMIN by default.
* ``env``: the app plus two flavors (``1`` m1.tiny, ``2`` m1.small), a fake
  Glance knowing :data:`~tests.unit.api_client.IMAGE` (``env.images``) and
  recorded conductor/compute casts (``env.casts``); ``env.api`` acts as
  MEMBER by default.
"""
import uuid

import pytest
import sqlalchemy as sa

from controlplane.db import engine as db_engine
from tests.unit.api_client import ADMIN, IMAGE, MEMBER, ApiClient, Casts, wipe_tables

@pytest.fixture
def engine(tmp_path, conf):
    """A SQLAlchemy engine on a fresh SQLite cell database (every table of
    ``models_cell`` created); disposed after the test."""
    from controlplane.db.models_cell import CellBase
    eng = sa.create_engine("sqlite:///%s" % (tmp_path / "cell.db"))
    CellBase.metadata.create_all(eng)
    yield eng
    eng.dispose()


#: URLs of the session's databases. A module that imports ``api_dbs``
#: registers the fixture again; this keeps one set of databases per run.
_DBS = []


@pytest.fixture(scope="session")
def api_dbs(mysql_server_url, request):
    """``(api_url, cell0_url, cell1_url)`` of databases migrated once per run."""
    if not _DBS:
        from tests.conftest import _drop_db, _make_db
        made = [_make_db(mysql_server_url, "api", "test_apitest_api"),
                _make_db(mysql_server_url, "cell", "test_apitest_cell0"),
                _make_db(mysql_server_url, "cell", "test_apitest_cell1")]
        _DBS.extend(url for _name, url in made)

        def drop():
            for name, _url in made:
                _drop_db(mysql_server_url, name)
            _DBS.clear()
        request.config.add_cleanup(drop)
    return tuple(_DBS)


@pytest.fixture
def cell_mappings(conf, api_dbs):
    """Empty databases set in CONF and mapped as cell0 and cell1."""
    from controlplane.db import cells, models_api, models_cell
    api_url, cell0_url, cell1_url = api_dbs
    wipe_tables(api_url, models_api.ApiBase.metadata)
    wipe_tables(cell0_url, models_cell.CellBase.metadata)
    wipe_tables(cell1_url, models_cell.CellBase.metadata)
    conf.set_override("connection", api_url, "api_database")
    conf.set_override("connection", cell1_url, "database")
    cell0 = cells.create_cell_mapping(db_engine.CELL0_UUID, "cell0", "rabbit://c0/",
                                      cell0_url)
    cell1 = cells.create_cell_mapping(str(uuid.uuid4()), "cell1", "rabbit://c1/",
                                      cell1_url)
    yield {"cell0": cell0, "cell1": cell1}
    db_engine.dispose_all()


@pytest.fixture
def cell1(cell_mappings):
    """The cell1 mapping dict of :func:`cell_mappings`."""
    return cell_mappings["cell1"]


@pytest.fixture
def wsgi_app(conf, cell_mappings):
    """The full API WSGI app (noauth2, rate limit off) over the databases."""
    from controlplane import policies
    from controlplane.api import app as app_mod
    conf.set_override("auth_strategy", "noauth2", "api")
    conf.set_override("enabled", False, "rate_limit")
    policies.reset()
    yield app_mod.create_app(conf)
    policies.reset()


@pytest.fixture
def api(wsgi_app):
    """An :class:`ApiClient` on :func:`wsgi_app` acting as ADMIN by default."""
    return ApiClient(wsgi_app, who=ADMIN)


class Env:
    """Namespace of the ``env`` fixture: ``conf``, ``wsgi``, ``api``,
    ``cell0``, ``cell1``, ``images``, ``casts``."""


@pytest.fixture
def env(conf, cell_mappings, wsgi_app, monkeypatch):
    """The API app with flavors, a fake Glance and recorded RPC casts."""
    from controlplane.api.compute import server_actions, servers
    from controlplane.db import flavors
    from controlplane.image import glance

    e = Env()
    e.cell0, e.cell1 = cell_mappings["cell0"], cell_mappings["cell1"]
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
    e.wsgi = wsgi_app
    e.api = ApiClient(wsgi_app, who=MEMBER)
    e.conf = conf
    return e
