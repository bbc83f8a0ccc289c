"""The fake hypervisor driver: nodes, resources, failure injection, power."""
import pytest

from controlplane.compute import states
from controlplane.compute.driver import InstanceSpawnError, load_driver
from controlplane.compute.fake import FakeDriver


def test_nodes_follow_host_count(conf):
    assert FakeDriver(host="cmp").get_available_nodes() == ["cmp"]
    conf.set_override("host_count", 3, "fake_driver")
    assert FakeDriver(host="cmp").get_available_nodes() == ["cmp", "cmp-1", "cmp-2"]


def test_resources_from_config(conf):
    conf.set_override("vcpus", 4, "fake_driver")
    conf.set_override("capabilities", {"gpu": "yes"}, "fake_driver")
    res = load_driver("fake", host="cmp").get_available_resource("cmp")
    assert res["vcpus"] == 4 and res["memory_mb"] == 65536 and res["local_gb"] == 1024
    assert res["stats"] == {"gpu": "yes"} and res["hypervisor_hostname"] == "cmp"


def test_spawn_power_destroy(conf):
    drv = FakeDriver(host="cmp")
    inst = {"uuid": "i1", "host": "cmp", "node": "cmp", "image_ref": "img"}
    assert drv.get_info(inst) == states.NOSTATE
    drv.spawn(None, inst, {"id": "img"})
    assert drv.get_info(inst) == states.RUNNING
    drv.power_off(inst)
    assert drv.get_info(inst) == states.SHUTDOWN
    drv.power_on(None, inst)
    drv.reboot(None, inst, "HARD")
    assert drv.get_info(inst) == states.RUNNING
    with pytest.raises(ValueError):
        drv.reboot(None, inst, "WARM")
    drv.destroy(None, inst)
    drv.destroy(None, inst)  # idempotent
    assert drv.get_info(inst) == states.NOSTATE


def test_failure_injection(conf):
    conf.set_override("fail_spawn_hosts", ["bad"], "fake_driver")
    conf.set_override("fail_spawn_images", ["badimg"], "fake_driver")
    drv = FakeDriver(host="cmp")
    with pytest.raises(InstanceSpawnError, match="bad"):
        drv.spawn(None, {"uuid": "i1", "host": "bad", "node": "bad"}, {"id": "img"})
    with pytest.raises(InstanceSpawnError, match="badimg"):
        drv.spawn(None, {"uuid": "i2", "host": "ok", "node": "ok"}, {"id": "badimg"})
    drv.spawn(None, {"uuid": "i3", "host": "ok", "node": "ok"}, {"id": "img"})
    assert drv.list_instance_uuids() == ["i3"]


def test_init_host_readopts(conf):
    drv = FakeDriver(host="cmp")
    drv.init_host("cmp", [{"uuid": "a", "vm_state": "active"},
                          {"uuid": "s", "vm_state": "stopped"},
                          {"uuid": "e", "vm_state": "error"}])
    assert drv.get_info({"uuid": "a"}) == states.RUNNING
    assert drv.get_info({"uuid": "s"}) == states.SHUTDOWN
    assert drv.get_info({"uuid": "e"}) == states.NOSTATE
