"""Server actions: os-start, os-stop, reboot with Nova's state checks and a
compare-and-swap on task_state."""
import threading

from controlplane.db import engine as db_engine
from controlplane.db import instances
from tests.unit.api_client import assert_fault, boot_body, place


def _server(env, **kw):
    r = env.api.post("/servers", boot_body())
    sid = r.get_json()["server"]["id"]
    place(env, sid, **kw)
    return sid


def _inst(env, sid):
    return instances.get_instance(db_engine.cell_engine(env.cell1), sid)


def test_stop_start_reboot(env):
    sid = _server(env)
    path = "/servers/%s/action" % sid
    r = env.api.post(path, {"os-stop": None})
    assert r.status_code == 202 and not r.data
    assert _inst(env, sid)["task_state"] == "powering-off"
    (_m, args, kw), = env.casts.of("stop_instance")
    assert args == ("host1", sid) and kw["transport_url"] == "rabbit://c1/"
    # a second stop while powering-off: 409 naming the task_state
    msg = assert_fault(env.api.post(path, {"os-stop": None}), 409)
    assert msg == "Cannot 'os-stop' instance %s while it is in task_state powering-off" % sid
    instances.update_instance(db_engine.cell_engine(env.cell1), sid,
                              {"vm_state": "stopped", "task_state": None, "power_state": 4})
    msg = assert_fault(env.api.post(path, {"os-stop": None}), 409)
    assert msg == "Cannot 'os-stop' instance %s while it is in vm_state stopped" % sid
    assert env.api.post(path, {"os-start": None}).status_code == 202
    assert _inst(env, sid)["task_state"] == "powering-on"
    instances.update_instance(db_engine.cell_engine(env.cell1), sid,
                              {"vm_state": "active", "task_state": None})
    assert "vm_state active" in assert_fault(env.api.post(path, {"os-start": None}), 409)
    assert env.api.post(path, {"reboot": {"type": "SOFT"}}).status_code == 202
    assert _inst(env, sid)["task_state"] == "rebooting"
    assert env.api.get("/servers/" + sid).get_json()["server"]["status"] == "REBOOT"
    assert_fault(env.api.post(path, {"reboot": {"type": "SOFT"}}), 409)
    # HARD may replace a soft reboot in progress
    assert env.api.post(path, {"reboot": {"type": "hard"}}).status_code == 202
    assert _inst(env, sid)["task_state"] == "rebooting_hard"
    assert env.casts.of("reboot_instance")[-1][2]["reboot_type"] == "HARD"


def test_action_bad_input(env):
    sid = _server(env)
    path = "/servers/%s/action" % sid
    assert_fault(env.api.post(path, {"reboot": {"type": "WARM"}}), 400)
    assert_fault(env.api.post(path, {"reboot": {}}), 400)
    assert_fault(env.api.post(path, {"os-stop": None, "os-start": None}), 400)
    assert_fault(env.api.post(path, {"os-fly": None}), 400)
    assert_fault(env.api.post(path, raw="nope"), 400)
    assert_fault(env.api.post("/servers/does-not-exist/action", {"os-stop": None}), 404)
    assert_fault(env.api.get(path), 405)


def test_action_on_build_request_is_409(env):
    sid = env.api.post("/servers", boot_body()).get_json()["server"]["id"]
    msg = assert_fault(env.api.post("/servers/%s/action" % sid, {"os-stop": None}), 409)
    assert "while it is in vm_state building" in msg


def test_racing_actions_only_one_wins(env):
    sid = _server(env)
    path = "/servers/%s/action" % sid
    results = []
    barrier = threading.Barrier(8)

    def go(body):
        barrier.wait()
        results.append(env.api.post(path, body).status_code)
    bodies = [{"os-stop": None}, {"reboot": {"type": "SOFT"}}] * 4
    threads = [threading.Thread(target=go, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [202] + [409] * 7
    assert len(env.casts.calls) - 1 == 1   # one boot cast + one action cast
