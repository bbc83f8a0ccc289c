"""Synthetic host states and request specs for the scheduler unit tests."""
from controlplane.scheduler.host_state import HostStates
from controlplane.scheduler.request import SchedulingRequest

CELL1 = "cell-1"
CELL2 = "cell-2"


def node(host, **kw):
    """A HostStates record with roomy defaults (16 vcpus, 32 GiB, 500 GiB)."""
    rec = {"host": host, "nodename": host, "uuid": "uuid-" + host, "cell_uuid": CELL1,
           "vcpus": 16, "memory_mb": 32768, "local_gb": 500,
           "vcpus_used": 0, "memory_mb_used": 0, "local_gb_used": 0,
           "reserved_host_memory_mb": 0, "reserved_host_disk_mb": 0, "reserved_host_cpus": 0,
           "cpu_allocation_ratio": 1.0, "ram_allocation_ratio": 1.0,
           "disk_allocation_ratio": 1.0, "hypervisor_type": "QEMU",
           "hypervisor_version": 6002000, "cpu_info": '{"arch": "x86_64"}',
           "supported_instances": [["x86_64", "qemu", "hvm"]], "stats": {},
           "up": True, "disabled": False, "num_instances": 0}
    rec.update(kw)
    return rec


def states(records, aggregates=None, default_az="nova"):
    return HostStates(records, aggregates or {}, default_az)


def spec(vcpus=1, memory_mb=512, root_gb=1, ephemeral_gb=0, swap=0, extra_specs=None,
         image_props=None, min_ram=0, min_disk=0, az=None, hints=None, group=None,
         force_hosts=None, force_nodes=None, ignore_hosts=None, instance_uuid="inst-1"):
    return {"instance_uuid": instance_uuid, "num_instances": 1, "project_id": "p",
            "user_id": "u",
            "flavor": {"flavorid": "f", "name": "f", "vcpus": vcpus, "memory_mb": memory_mb,
                       "root_gb": root_gb, "ephemeral_gb": ephemeral_gb, "swap": swap,
                       "extra_specs": extra_specs or {}},
            "image": {"id": "i", "name": "i", "min_ram": min_ram, "min_disk": min_disk,
                      "properties": image_props or {}},
            "availability_zone": az, "force_hosts": force_hosts or [],
            "force_nodes": force_nodes or [], "ignore_hosts": ignore_hosts or [],
            "scheduler_hints": hints or {}, "instance_group": group}


def request(instance_hosts=None, **kw):
    return SchedulingRequest(spec(**kw), instance_hosts)


def passing(filter_obj, st, req):
    """Host names passing one filter (None mask = all)."""
    mask = filter_obj.filter_mask(st, req)
    if mask is None:
        return sorted(st.host)
    return sorted(h for h, ok in zip(st.host, mask) if ok)
