"""Cells v2 mappings and Alembic migrations on a real MariaDB."""
import pytest

from controlplane import exception
from controlplane.db import cells, migration

pytestmark = pytest.mark.integration

CELL1 = "11111111-1111-1111-1111-111111111111"


def test_db_sync_is_idempotent(api_db):
    migration.db_sync(api_db, "api")
    assert migration.db_version(api_db) == "api0002"


def test_cell_and_host_mappings(api_db):
    cells.create_cell_mapping(cells.CELL0_UUID, "cell0", "none:///", "mysql+pymysql://x/c0")
    c1 = cells.create_cell_mapping(CELL1, "cell1", "rabbit://h/", "mysql+pymysql://x/c1")
    # creating again returns the same mapping
    assert cells.create_cell_mapping(CELL1, "cell1", "rabbit://h/", "x")["id"] == c1["id"]
    with pytest.raises(exception.Conflict):
        cells.create_cell_mapping("22222222-2222-2222-2222-222222222222", "cell1", "r", "d")
    assert [c["name"] for c in cells.list_cell_mappings()] == ["cell0", "cell1"]
    assert [c["name"] for c in cells.list_cell_mappings(include_cell0=False)] == ["cell1"]

    assert cells.map_host("node1", CELL1) is True
    assert cells.map_host("node1", CELL1) is False
    assert cells.get_host_mapping("node1")["cell_mapping"]["uuid"] == CELL1
    with pytest.raises(exception.HostMappingNotFound):
        cells.get_host_mapping("nowhere")


def test_instance_mapping_lifecycle(api_db):
    c1 = cells.create_cell_mapping(CELL1, "cell1", "rabbit://h/", "mysql+pymysql://x/c1")
    cells.create_instance_mapping("i-1", "proj", "user", 2, 2048)
    m = cells.get_instance_mapping("i-1")
    assert m["cell_mapping"] is None and m["vcpus"] == 2 and m["memory_mb"] == 2048
    cells.set_instance_mapping_cell("i-1", c1["id"])
    assert cells.get_instance_mapping("i-1")["cell_mapping"]["name"] == "cell1"
    assert len(cells.list_instance_mappings("proj")) == 1
    assert cells.queue_instance_mapping_for_delete("i-1") is True
    assert cells.list_instance_mappings("proj") == []
    assert cells.delete_instance_mapping("i-1") is True
    assert cells.delete_instance_mapping("i-1") is False
    with pytest.raises(exception.InstanceMappingNotFound):
        cells.get_instance_mapping("i-1")
