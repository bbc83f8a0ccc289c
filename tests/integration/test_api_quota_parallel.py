"""50 parallel boots against a quota of 10 on the real MariaDB API database:
exactly 10 servers exist afterwards and the other 40 got a clean 403.

Runs through the whole WSGI app (noauth2) so the quota check-and-create
transaction (generation bump → count → insert → recount) is exercised
exactly as in production; only Glance and the RPC cast are faked.
"""
import collections
import threading

import pytest

from controlplane import quota
from controlplane.db import cells, engine as db_engine, quotas as db_quotas
from tests.integration.lost_commit import first_commit_answer_lost
from tests.unit.api_client import boot_body
from tests.unit.conftest import api_dbs, cell_mappings, env, wsgi_app  # noqa: F401

pytestmark = pytest.mark.integration


def test_fifty_parallel_boots_leave_exactly_ten(env):
    assert quota.get_project_limits("proj-a")["instances"] == 10
    barrier = threading.Barrier(50)
    results = []
    lock = threading.Lock()

    def boot(i):
        barrier.wait()
        r = env.api.post("/servers", boot_body(name="p%d" % i))
        with lock:
            results.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=boot, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = collections.Counter(code for code, _b in results)
    assert codes == {202: 10, 403: 40}, codes
    for code, body in results:
        if code == 403:
            assert body["forbidden"]["message"] == (
                "Quota exceeded for instances: Requested 1, but already used 10 of 10 "
                "instances")
    assert db_quotas.count_instances("proj-a") == {"instances": 10, "cores": 10,
                                                   "ram": 5120}
    assert len(cells.list_instance_mappings(project_id="proj-a")) == 10
    assert len(env.api.get("/servers").get_json()["servers"]) == 10
    assert len(env.casts.of("schedule_and_build_instances")) == 10


def test_parallel_creates_through_quota_function(env):
    """The same guarantee at the quota layer, 2 vCPUs each against cores=9:
    at most 4 fit."""
    env.conf.set_override("cores", 9, "quota")
    barrier = threading.Barrier(30)
    outcomes = []

    def create(i):
        barrier.wait()
        try:
            quota.create_instances("proj-c", "u", [{
                "instance_uuid": "00000000-0000-4000-8000-%012d" % i, "vcpus": 2,
                "memory_mb": 64, "build_request": None, "request_spec": None}])
            outcomes.append("ok")
        except quota.QuotaExceeded as exc:
            assert exc.overs[0]["resource"] == "cores"
            outcomes.append("over")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 4 and outcomes.count("over") == 26
    assert db_quotas.count_instances("proj-c")["cores"] == 8


def test_boot_retried_after_its_commit_landed_makes_one_server(env):
    """The Galera writer dies after the create's COMMIT but before its
    answer: the transaction is retried (2013) and must find the mapping of
    the first attempt - the API chose the uuid once - instead of failing on
    the duplicate key or charging quota twice."""
    with first_commit_answer_lost(db_engine.api_engine()) as lost:
        r = env.api.post("/servers", boot_body(name="once"))
    assert lost, "the simulated lost answer never happened"
    assert r.status_code == 202, r.get_json()
    assert [m["instance_uuid"] for m in cells.list_instance_mappings(project_id="proj-a")] \
        == [r.get_json()["server"]["id"]]
    assert db_quotas.count_instances("proj-a")["instances"] == 1
    assert len(env.casts.of("schedule_and_build_instances")) == 1
