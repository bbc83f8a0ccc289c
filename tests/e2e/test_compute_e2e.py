"""Issue 2 end to end: every service as its own process, real Keystone,
Glance, MariaDB and RabbitMQ, driven by the unmodified `openstack` CLI and
openstacksdk."""
import concurrent.futures
import time
import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def flavors(osc):
    """m1.tiny, and m1.ssd with the extra spec ssd=true; `flaky` disabled."""
    osc.run("compute", "service", "set", "--disable", "--disable-reason", "spawns fail",
            "flaky", "controlplane-compute", cloud="admin", fmt_json=False)
    existing = {f["Name"] for f in osc.run("flavor", "list", "--all", cloud="admin")}
    if "m1.tiny" not in existing:
        osc.run("flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1",
                "m1.tiny", cloud="admin")
    if "m1.ssd" not in existing:
        osc.run("flavor", "create", "--vcpus", "2", "--ram", "4096", "--disk", "40",
                "--property", "ssd=true", "m1.ssd", cloud="admin")
    return {"tiny": "m1.tiny", "ssd": "m1.ssd"}


def _name(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:6])


def test_the_issue_scenario(osc, flavors):
    """flavor + aggregate/AZ + JsonFilter hint boot lands on node1 and runs
    the whole life cycle."""
    ssd = osc.run("flavor", "show", "m1.ssd", cloud="admin")
    assert "ssd" in str(ssd["properties"])
    osc.run("aggregate", "create", "--zone", "az1", "fast-io", cloud="admin")
    osc.run("aggregate", "set", "--property", "ssd=true", "fast-io", cloud="admin",
            fmt_json=False)
    osc.run("aggregate", "add", "host", "fast-io", "node1", cloud="admin")
    zones = [z["Zone Name"] for z in osc.run("availability", "zone", "list")]
    assert "az1" in zones

    name = _name("vm1")
    osc.run("server", "create", "--flavor", "m1.ssd", "--image", "cirros",
            "--availability-zone", "az1", "--hint",
            'query=[">=","$free_ram_mb",1024]', "--nic", "none", name)
    srv = osc.wait_status(name, {"ACTIVE", "ERROR"})
    assert srv["status"] == "ACTIVE", srv
    admin_view = osc.run("server", "show", srv["id"], cloud="admin")
    assert admin_view["OS-EXT-SRV-ATTR:host"] == "node1"
    assert admin_view["OS-EXT-AZ:availability_zone"] == "az1"

    assert name in [s["Name"] for s in osc.run("server", "list")]
    osc.run("server", "stop", name, fmt_json=False)
    stopped = osc.wait_status(name, {"SHUTOFF"})
    assert stopped["OS-EXT-STS:vm_state"] == "stopped"
    assert stopped["OS-EXT-STS:power_state"] in ("Shutdown", 4)
    osc.run("server", "start", name, fmt_json=False)
    osc.wait_status(name, {"ACTIVE"})
    osc.run("server", "reboot", name, fmt_json=False)
    osc.wait_status(name, {"ACTIVE"})
    osc.run("server", "reboot", "--hard", name, fmt_json=False)
    osc.wait_status(name, {"ACTIVE"})
    osc.run("server", "delete", "--wait", name, fmt_json=False)
    res = osc.run("server", "show", name, check=False)
    assert res.returncode != 0


def test_admin_views(osc, flavors):
    services = osc.run("compute", "service", "list", cloud="admin")
    binaries = {s["Binary"] for s in services}
    assert {"controlplane-compute", "controlplane-conductor",
            "controlplane-scheduler"} <= binaries
    computes = {s["Host"]: s for s in services if s["Binary"] == "controlplane-compute"}
    assert set(computes) >= {"node1", "node2", "flaky"}
    assert computes["node1"]["State"] == "up"
    assert computes["flaky"]["Status"] == "disabled"
    hypervisors = {h["Hypervisor Hostname"] for h in osc.run("hypervisor", "list",
                                                            cloud="admin")}
    assert hypervisors >= {"node1", "node2", "flaky"}


def test_quota_and_limits(osc, flavors):
    project = osc.project_id("demo")
    osc.run("quota", "set", "--instances", "20", project, cloud="admin", fmt_json=False)
    shown = osc.run("quota", "show", project, cloud="admin")
    flat = {(q.get("Resource") or q.get("resource")): (q.get("Limit") or q.get("limit"))
            for q in shown} if isinstance(shown, list) else shown
    assert flat.get("instances") == 20, shown
    limits = osc.run("limits", "show", "--absolute")
    values = {row["Name"]: row["Value"] for row in limits}
    assert values["instances"] == 20
    assert "instances_used" in values


def test_quota_exceeded_gives_403(osc, flavors):
    project = osc.project_id("alt_demo")
    osc.run("quota", "set", "--instances", "1", project, cloud="admin", fmt_json=False)
    try:
        first = _name("q")
        osc.run("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                "--nic", "none", first, cloud="alt_demo")
        res = osc.run("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                      "--nic", "none", _name("q"), cloud="alt_demo", check=False)
        assert res.returncode != 0
        assert "Quota exceeded" in res.stderr and "403" in res.stderr
        osc.run("server", "delete", "--wait", first, cloud="alt_demo", fmt_json=False)
    finally:
        osc.run("quota", "set", "--instances", "10", project, cloud="admin",
                fmt_json=False)


def test_cross_project_isolation(osc, flavors):
    name = _name("mine")
    srv = osc.run("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                  "--nic", "none", name)
    res = osc.run("server", "show", srv["id"], cloud="alt_demo", check=False)
    assert res.returncode != 0 and "No Server found" in res.stderr
    assert srv["id"] not in [s["ID"] for s in osc.run("server", "list", cloud="alt_demo")]
    res = osc.run("server", "delete", srv["id"], cloud="alt_demo", check=False)
    assert res.returncode != 0
    osc.wait_status(name, {"ACTIVE"})
    osc.run("server", "delete", "--wait", name, fmt_json=False)


def test_no_valid_host_goes_to_error_in_cell0(osc, flavors):
    if "m1.huge" not in {f["Name"] for f in osc.run("flavor", "list", "--all",
                                                    cloud="admin")}:
        osc.run("flavor", "create", "--vcpus", "1", "--ram", "10000000", "--disk", "1",
                "m1.huge", cloud="admin")
    project = osc.project_id("demo")
    osc.run("quota", "set", "--ram", "-1", project, cloud="admin", fmt_json=False)
    name = _name("huge")
    osc.run("server", "create", "--flavor", "m1.huge", "--image", "cirros", "--nic",
            "none", name)
    srv = osc.wait_status(name, {"ERROR", "ACTIVE"})
    assert srv["status"] == "ERROR"
    assert "No valid host was found" in str(srv.get("fault"))
    osc.run("server", "delete", "--wait", name, fmt_json=False)


def test_failed_build_is_rescheduled(osc, flavors):
    """flaky wins the weighing (most RAM) but fails every spawn: the build
    must be rescheduled to node2, its alternate in the same zone."""
    osc.run("aggregate", "create", "--zone", "reschedaz", "resched", cloud="admin")
    osc.run("aggregate", "add", "host", "resched", "flaky", cloud="admin")
    osc.run("aggregate", "add", "host", "resched", "node2", cloud="admin")
    osc.run("compute", "service", "set", "--enable", "flaky", "controlplane-compute",
            cloud="admin", fmt_json=False)
    try:
        name = _name("resched")
        osc.run("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                "--availability-zone", "reschedaz", "--nic", "none", name)
        srv = osc.wait_status(name, {"ACTIVE", "ERROR"})
        assert srv["status"] == "ACTIVE", srv
        assert osc.run("server", "show", srv["id"],
                       cloud="admin")["OS-EXT-SRV-ATTR:host"] == "node2"
        osc.run("server", "delete", "--wait", name, fmt_json=False)
    finally:
        osc.run("compute", "service", "set", "--disable", "flaky",
                "controlplane-compute", cloud="admin", fmt_json=False)


def test_openstacksdk_boot(sdk, flavors):
    conn = sdk("demo")
    image = conn.image.find_image("cirros")
    flavor = conn.compute.find_flavor("m1.tiny")
    server = conn.compute.create_server(name=_name("sdk"), image_id=image.id,
                                        flavor_id=flavor.id, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60)
    assert server.status == "ACTIVE"
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)


def test_service_killed_mid_build_loses_nothing(osc, stack, flavors):
    """Kill -9 the conductor and a compute while builds are in flight, start
    them again: every server ends ACTIVE or ERROR, none stays in BUILD."""
    names = [_name("chaos") for _ in range(6)]

    def boot(name):
        return osc.run("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                       "--nic", "none", name)

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(boot, n) for n in names]
        time.sleep(0.5)
        stack.kill("conductor")
        stack.kill("compute", "node1")
        created = [f.result() for f in futures]
    stack.restart("conductor")
    stack.restart("compute", "node1")
    for srv in created:
        final = osc.wait_status(srv["id"], {"ACTIVE", "ERROR"}, timeout=120)
        assert final["status"] in ("ACTIVE", "ERROR")
    for srv in created:
        osc.run("server", "delete", srv["id"], fmt_json=False)


def _token(osc, cloud="demo"):
    c = osc.clouds[cloud]["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": c["username"], "password": c["password"],
        "domain": {"name": c.get("user_domain_name", "Default")}}}},
        "scope": {"project": {"name": c["project_name"],
                              "domain": {"name": c.get("project_domain_name", "Default")}}}}}
    r = requests.post(c["auth_url"].rstrip("/") + "/auth/tokens", json=body, timeout=10)
    r.raise_for_status()
    return r.headers["X-Subject-Token"]


@pytest.mark.parametrize("body,headers,status", [
    (b"{not json", {}, 400),
    (b'{"server": {"name": 5, "imageRef": "x", "flavorRef": "1"}}', {}, 400),
    (b'{"server": {"name": "a", "imageRef": "' + str(uuid.uuid4()).encode()
     + b'", "flavorRef": "m1.tiny", "networks": "none"}}', {}, 400),
    (b'{"server": {"name": "a", "imageRef": "x", "flavorRef": "nope", "networks": "none"}}',
     {}, 400),
    (b"{}", {"OpenStack-API-Version": "compute 9.99"}, 406),
    (b'{"server": {"name": "' + b"x" * 200000 + b'"}}', {}, 413),
])
def test_bad_input_is_never_a_500(osc, flavors, body, headers, status):
    token = _token(osc)
    h = {"X-Auth-Token": token, "Content-Type": "application/json", **headers}
    r = requests.post(osc.stack.api_url + "/servers", data=body, headers=h, timeout=30)
    assert r.status_code == status, r.text
    assert r.json()  # the OpenStack error format: {"<fault>": {"code", "message"}}
    fault = next(iter(r.json().values()))
    assert fault["code"] == status and fault["message"]


def test_negative_quota_is_400(osc, flavors):
    token = _token(osc, "admin")
    project = osc.project_id("demo")
    r = requests.put(osc.stack.api_url + "/os-quota-sets/" + project,
                     json={"quota_set": {"instances": -5}},
                     headers={"X-Auth-Token": token}, timeout=30)
    assert r.status_code == 400, r.text
