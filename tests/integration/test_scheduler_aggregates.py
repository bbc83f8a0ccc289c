"""db/aggregates.py on real MariaDB (API database)."""
import pytest

from controlplane import exception
from controlplane.db import aggregates as agg
from tests.integration.scheduler_db import temp_database

pytestmark = pytest.mark.integration


@pytest.fixture
def api(conf, mysql_server_url):
    with temp_database(mysql_server_url, "api") as url:
        conf.set_override("connection", url, "api_database")
        yield url


def test_aggregate_lifecycle(api):
    a = agg.create_aggregate("rack1", availability_zone="az1", metadata={"ssd": "true"})
    assert a["availability_zone"] == "az1" and a["metadata"] == {"availability_zone": "az1",
                                                                 "ssd": "true"}
    with pytest.raises(exception.AggregateNameExists):
        agg.create_aggregate("rack1")
    assert agg.get_aggregate(a["id"])["name"] == "rack1"
    assert agg.get_aggregate(a["uuid"])["id"] == a["id"]
    assert agg.get_aggregate_by_uuid(a["uuid"])["id"] == a["id"]
    with pytest.raises(exception.AggregateNotFound):
        agg.get_aggregate(9999)

    assert agg.add_host(a["id"], "h1")["hosts"] == ["h1"]
    with pytest.raises(exception.AggregateHostExists):
        agg.add_host(a["id"], "h1")
    with pytest.raises(exception.AggregateHostNotFound):
        agg.remove_host(a["id"], "h2")
    with pytest.raises(exception.AggregateNotEmpty) as err:
        agg.delete_aggregate(a["id"])
    assert err.value.code == 400

    a = agg.set_metadata(a["id"], {"ssd": None, "gpu": "a100"})
    assert a["metadata"] == {"availability_zone": "az1", "gpu": "a100"}
    a = agg.update_aggregate(a["id"], name="rack-1", availability_zone="az2")
    assert a["name"] == "rack-1" and a["availability_zone"] == "az2"
    assert [x["name"] for x in agg.list_aggregates()] == ["rack-1"]

    assert agg.get_host_az("h1") == "az2"
    assert agg.get_host_az("elsewhere") == "nova"
    assert agg.list_availability_zones() == {"az2": ["h1"]}
    hm = agg.host_aggregates_map()
    assert list(hm) == ["h1"] and hm["h1"][0]["metadata"]["gpu"] == "a100"

    agg.remove_host(a["id"], "h1")
    agg.delete_aggregate(a["id"])
    assert agg.list_aggregates() == []


def test_host_cannot_be_in_two_zones(api):
    a = agg.create_aggregate("a", availability_zone="az1")
    b = agg.create_aggregate("b", availability_zone="az2")
    plain = agg.create_aggregate("plain")
    agg.add_host(a["id"], "h1")
    agg.add_host(plain["id"], "h1")               # no zone: fine
    with pytest.raises(exception.AvailabilityZoneConflict):
        agg.add_host(b["id"], "h1")
    with pytest.raises(exception.AvailabilityZoneConflict):
        agg.set_metadata(plain["id"], {"availability_zone": "az3"})
    agg.set_metadata(plain["id"], {"availability_zone": "az1"})   # same zone: fine
    assert agg.get_host_az("h1") == "az1"
