"""/os-aggregates against real databases, validated with tempest's schemas."""
import pytest

from tests.unit.api_client import MAX, MEMBER, add_service, assert_fault, check

V21, V241 = "v2_1.aggregates", "v2_41.aggregates"


@pytest.fixture
def hosts(cell1):
    add_service(cell1, "node1")
    add_service(cell1, "node2")
    add_service(cell1, "ctl1", binary="controlplane-scheduler")


def test_create_list_show_update_delete(api, hosts):
    resp = api.post("/os-aggregates", {"aggregate": {"name": "fast-io",
                                                     "availability_zone": "az1"}})
    agg = check(V21, "create_aggregate", resp)["aggregate"]
    assert agg["availability_zone"] == "az1" and "uuid" not in agg
    body = check(V21, "list_aggregates", api.get("/os-aggregates"))
    assert body["aggregates"][0]["metadata"] == {"availability_zone": "az1"}
    resp = api.get("/os-aggregates/%d" % agg["id"], version=MAX)
    assert check(V241, "get_aggregate", resp)["aggregate"]["uuid"]
    check(V241, "list_aggregates", api.get("/os-aggregates", version=MAX))
    resp = api.put("/os-aggregates/%d" % agg["id"], {"aggregate": {"availability_zone": "az2"}},
                   version=MAX)
    assert check(V241, "update_aggregate", resp)["aggregate"]["availability_zone"] == "az2"
    resp = api.put("/os-aggregates/%d" % agg["id"], {"aggregate": {"name": "renamed"}})
    assert check(V21, "update_aggregate", resp)["aggregate"]["name"] == "renamed"
    check(V21, "delete_aggregate", api.delete("/os-aggregates/%d" % agg["id"]))
    assert_fault(api.get("/os-aggregates/%d" % agg["id"]), 404)
    resp = api.post("/os-aggregates", {"aggregate": {"name": "x"}}, version=MAX)
    assert check(V241, "create_aggregate", resp)["aggregate"]["availability_zone"] is None


def test_hosts_and_metadata(api, hosts):
    a = api.post("/os-aggregates", {"aggregate": {"name": "fast-io",
                                                  "availability_zone": "az1"}}).get_json()
    aid = a["aggregate"]["id"]
    resp = api.post("/os-aggregates/%d/action" % aid, {"add_host": {"host": "node1"}})
    assert check(V21, "aggregate_add_remove_host", resp)["aggregate"]["hosts"] == ["node1"]
    assert_fault(api.post("/os-aggregates/%d/action" % aid, {"add_host": {"host": "node1"}}), 409)
    assert_fault(api.post("/os-aggregates/%d/action" % aid, {"add_host": {"host": "nohost"}}),
                 404)
    # the scheduler host is not a compute host
    assert_fault(api.post("/os-aggregates/%d/action" % aid, {"add_host": {"host": "ctl1"}}), 404)
    resp = api.post("/os-aggregates/%d/action" % aid,
                    {"set_metadata": {"metadata": {"ssd": "true", "gpu": None}}}, version=MAX)
    meta = check(V241, "aggregate_set_metadata", resp)["aggregate"]["metadata"]
    assert meta == {"availability_zone": "az1", "ssd": "true"}
    resp = api.post("/os-aggregates/%d/action" % aid,
                    {"set_metadata": {"metadata": {"ssd": None}}})
    assert check(V21, "aggregate_set_metadata", resp)["aggregate"]["metadata"] == {
        "availability_zone": "az1"}

    # node1 is in az1: an aggregate in az2 cannot take it (409), nor can an
    # aggregate holding it move to another zone (400)
    b = api.post("/os-aggregates", {"aggregate": {"name": "b", "availability_zone": "az2"}})
    bid = b.get_json()["aggregate"]["id"]
    assert_fault(api.post("/os-aggregates/%d/action" % bid, {"add_host": {"host": "node1"}}), 409)
    c = api.post("/os-aggregates", {"aggregate": {"name": "c"}}).get_json()["aggregate"]["id"]
    api.post("/os-aggregates/%d/action" % c, {"add_host": {"host": "node1"}})
    assert_fault(api.post("/os-aggregates/%d/action" % c,
                          {"set_metadata": {"metadata": {"availability_zone": "az2"}}}), 400)
    assert_fault(api.put("/os-aggregates/%d" % c, {"aggregate": {"availability_zone": "az2"}}),
                 400)
    assert_fault(api.post("/os-aggregates/%d/action" % c,
                          {"set_metadata": {"metadata": {"availability_zone": "a:b"}}}), 400)

    assert "not empty" in assert_fault(api.delete("/os-aggregates/%d" % aid), 400)
    resp = api.post("/os-aggregates/%d/action" % aid, {"remove_host": {"host": "node1"}})
    assert check(V21, "aggregate_add_remove_host", resp)["aggregate"]["hosts"] == []
    assert_fault(api.post("/os-aggregates/%d/action" % aid,
                          {"remove_host": {"host": "node1"}}), 404)
    check(V21, "delete_aggregate", api.delete("/os-aggregates/%d" % aid))


@pytest.mark.parametrize("body", [
    {"aggregate": {}},
    {"aggregate": {"name": ""}},
    {"aggregate": {"name": "x", "availability_zone": "a:b"}},
    {"aggregate": {"name": "x", "availability_zone": ""}},
    {"aggregate": {"name": 5}},
    {"aggregate": {"name": "x", "extra": 1}},
    {"name": "x"},
])
def test_create_bad_input(api, body):
    assert_fault(api.post("/os-aggregates", body), 400)


def test_errors(api, hosts):
    api.post("/os-aggregates", {"aggregate": {"name": "dup"}})
    assert_fault(api.post("/os-aggregates", {"aggregate": {"name": "dup"}}), 409)
    assert_fault(api.get("/os-aggregates/abc"), 400)
    assert_fault(api.get("/os-aggregates/999"), 404)
    assert_fault(api.delete("/os-aggregates/999"), 404)
    assert_fault(api.put("/os-aggregates/999", {"aggregate": {"name": "z"}}), 404)
    assert_fault(api.put("/os-aggregates/1", {"aggregate": {}}), 400)
    assert_fault(api.post("/os-aggregates/999/action", {"add_host": {"host": "node1"}}), 404)
    assert_fault(api.post("/os-aggregates/1/action", {"bogus": {}}), 400)
    assert_fault(api.post("/os-aggregates/1/action", {"add_host": {}}), 400)
    assert_fault(api.post("/os-aggregates/1/action",
                          {"set_metadata": {"metadata": {"k": 5}}}), 400)
    assert_fault(api.post("/os-aggregates/1/action", raw="nonsense"), 400)
    assert_fault(api.get("/os-aggregates", who=MEMBER), 403)
    assert_fault(api.post("/os-aggregates", {"aggregate": {"name": "m"}}, who=MEMBER), 403)
