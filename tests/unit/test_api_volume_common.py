"""Fixtures and helpers of the Block Storage API tests
(tests/unit/test_api_volume_*.py); no tests here.

* ``venv`` (fixture): the volume API app (noauth2, rate limit off) over the
  session's migrated API database (emptied; the default type
  ``__DEFAULT__`` made again), two volume backends ``host1@fileback``
  (zone ``az1``, backend name ``fileback``) and ``host1@second``
  (``az2``), recorded volume/scheduler casts (``venv.casts``) and a fake
  Glance (``venv.images``, ``venv.created_images``). ``venv.api`` is a
  :class:`VolumeClient` acting as MEMBER.
* :func:`vcheck`: validate a response against tempest's
  ``tempest.lib.api_schema.response.volume.<module>.<name>``.
* :func:`make_volume`: insert a volume directly (status, host...).
"""
import importlib
import uuid

import pytest

from tests.unit.api_client import ADMIN, IMAGE, MEMBER, ApiClient, Casts

TEMPEST = "tempest.lib.api_schema.response.volume."
VMAX = "3.60"


class _Resp:
    def __init__(self, status):
        self.status = status


def vcheck(module, name, resp):
    """Validate ``resp`` (status and body) against tempest's volume schema
    ``<module>.<name>``; returns the decoded body ("" when none)."""
    from tempest.lib.common.rest_client import RestClient
    schema = getattr(importlib.import_module(TEMPEST + module), name)
    body = resp.get_json(silent=True) if resp.data else ""
    RestClient.validate_response(schema, _Resp(resp.status_code), body)
    return body


class VolumeClient(ApiClient):
    """:class:`ApiClient` for ``/v3/<project of the persona>`` sending
    ``OpenStack-API-Version: volume <version>``."""

    def request(self, method, path, body=None, who=..., version=None, raw=None,
                headers=None, prefix=None):
        who_ = self.who if who is ... else who
        if prefix is None:
            prefix = "/v3/%s" % (who_["project"] if who_ else "none")
        hdrs = dict(headers or {})
        if version:
            hdrs["OpenStack-API-Version"] = "volume %s" % version
        return super().request(method, path, body=body, who=who, raw=raw, headers=hdrs,
                               prefix=prefix)


class VEnv:
    """Namespace of the ``venv`` fixture."""


def ensure_default_type():
    from controlplane.db import engine as db_engine
    from controlplane.db import volume_types as db_types
    from controlplane.volume import exception as vexc
    eng = db_engine.api_engine()
    try:
        return db_types.get_volume_type_by_name(eng, db_types.DEFAULT_TYPE_NAME)
    except vexc.VolumeTypeNotFound:
        return db_types.create_volume_type(eng, db_types.DEFAULT_TYPE_NAME,
                                           description="Default Volume Type")


def add_backend(host, backend, zone, backend_name=None, capacity=1000.0):
    """A ``controlplane-volume`` service row and one pool for ``host@backend``."""
    from controlplane.db import engine as db_engine
    from controlplane.db import volume_pools as db_pools
    from controlplane.db import volume_services as db_services
    eng = db_engine.api_engine()
    db_services.create_or_get_service(eng, "%s@%s" % (host, backend),
                                      db_services.VOLUME_BINARY, availability_zone=zone)
    db_pools.report_pools(eng, host, backend, [{
        "pool_name": backend, "total_capacity_gb": capacity, "free_capacity_gb": capacity,
        "volume_backend_name": backend_name or backend, "availability_zone": zone,
        "thin_provisioning_support": True, "thick_provisioning_support": False,
        "reserved_percentage": 0, "max_over_subscription_ratio": 20.0}])


def make_volume(project="proj-a", size=1, status="available", host="host1@fileback#fileback",
                zone="az1", **values):
    """Insert a volume as the volume service would leave it; returns it."""
    from controlplane.db import engine as db_engine
    from controlplane.db import volumes as db_volumes
    vals = {"project_id": project, "user_id": "alice", "size": size, "status": status,
            "host": host, "availability_zone": zone,
            "volume_type_id": ensure_default_type()["id"], "display_name": "vol"}
    vals.update(values)
    return db_volumes.create_volume(db_engine.api_engine(), vals)


@pytest.fixture
def venv(conf, cell_mappings, monkeypatch):
    """See the module docstring."""
    from controlplane import policies
    from controlplane.api.volume import app as vapp
    from controlplane.api.volume import image as vimage
    from controlplane.api.volume import rpc
    from controlplane.image import glance

    conf.set_override("auth_strategy", "noauth2", "api")
    conf.set_override("enabled", False, "rate_limit")
    policies.reset()
    e = VEnv()
    e.conf = conf
    e.cells = cell_mappings
    e.default_type = ensure_default_type()
    add_backend("host1", "fileback", "az1")
    add_backend("host1", "second", "az2", capacity=500.0)
    e.images = {IMAGE: {"id": IMAGE, "name": "cirros", "status": "active", "min_ram": 0,
                        "min_disk": 0, "size": 50 * 1024 * 1024,
                        "properties": {"os_distro": "cirros", "disk_format": "qcow2"}}}
    e.created_images = []

    def fake_get_image(ctxt, image_id):
        if image_id not in e.images:
            raise glance.ImageNotFound(image_id=image_id)
        return e.images[image_id]

    def fake_create_image(ctxt, vol, meta):
        image = {"id": str(uuid.uuid4()), "status": "queued", "name": meta["name"]}
        e.created_images.append((vol["id"], meta, image))
        return image

    monkeypatch.setattr(glance, "get_image", fake_get_image)
    monkeypatch.setattr(vimage, "create_image", fake_create_image)
    e.casts = Casts()
    monkeypatch.setattr(rpc, "_volume", e.casts)
    monkeypatch.setattr(rpc, "_scheduler", e.casts)
    e.wsgi = vapp.create_app(conf)
    e.api = VolumeClient(e.wsgi, who=MEMBER)
    e.admin = VolumeClient(e.wsgi, who=ADMIN)
    yield e
    policies.reset()
