"""The file driver on a temp directory, checked with qemu-img / qemu-io:
sparse raw and qcow2 volumes, qcow2-overlay snapshots (create, delete in
any order), volume from snapshot, clone, extend, capacity from statvfs."""
import json
import os
import shutil
import subprocess
import types

import pytest

from controlplane.volume.drivers.file import FileDriver

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None or
                                shutil.which("qemu-io") is None,
                                reason="qemu-utils is not installed")
GiB = 1024 ** 3


def _conf(share, fmt="raw", sparse=True):
    return types.SimpleNamespace(file_share_path=str(share), file_volume_format=fmt,
                                 file_sparsed_volumes=sparse, file_pool_name="share",
                                 max_over_subscription_ratio=20.0, reserved_percentage=0)


def _info(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", "-U", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def _write(path, offset, pattern, fmt=None):
    args = ["qemu-io"]
    if fmt:
        args += ["-f", fmt]
    subprocess.run(args + ["-c", "write -P %d %d 64k" % (pattern, offset), str(path)],
                   check=True, capture_output=True)


def _reads(path, offset, pattern):
    out = subprocess.run(["qemu-io", "-r", "-c", "read -P %d %d 64k" % (pattern, offset),
                          str(path)], capture_output=True, text=True)
    return out.returncode == 0 and "Pattern verification failed" not in out.stdout


@pytest.fixture
def drv(tmp_path):
    d = FileDriver(backend="file1", conf=_conf(tmp_path), host="h")
    d.do_setup()
    return d


def vol(vid, size=1, host="h@file1#share"):
    return {"id": vid, "size": size, "host": host}


def test_sparse_raw_volume_and_capacity(drv, tmp_path):
    v = vol("v1", 2)
    assert drv.create_volume(v) == {"provider_location": str(tmp_path)}
    info = _info(tmp_path / "volume-v1")
    assert info["format"] == "raw" and info["virtual-size"] == 2 * GiB
    assert os.stat(tmp_path / "volume-v1").st_blocks * 512 < 1024 * 1024   # sparse
    [pool] = drv.get_pools()
    st = os.statvfs(tmp_path)
    assert pool["pool_name"] == "share" and pool["thin_provisioning_support"]
    assert pool["total_capacity_gb"] == round(st.f_blocks * st.f_frsize / GiB, 2)
    conn = drv.initialize_connection(v, {})
    assert conn["driver_volume_type"] == "file" and conn["data"]["format"] == "raw"


def test_qcow2_volume_and_extend(tmp_path):
    d = FileDriver(backend="f", conf=_conf(tmp_path, fmt="qcow2"), host="h")
    v = vol("q", 1)
    d.create_volume(v)
    assert _info(tmp_path / "volume-q")["format"] == "qcow2"
    d.extend_volume(v, 3)
    assert _info(tmp_path / "volume-q")["virtual-size"] == 3 * GiB


def test_snapshots_are_overlays_and_keep_point_in_time_data(drv, tmp_path):
    v = vol("v", 1)
    drv.create_volume(v)
    base = tmp_path / "volume-v"
    _write(base, 0, 0x11, fmt="raw")
    drv.create_snapshot({"id": "s1"}, v)
    overlay1 = tmp_path / "volume-v.s1"
    info = _info(overlay1)
    assert info["format"] == "qcow2" and info["backing-filename"] == "volume-v"
    assert drv.active_path(v) == str(overlay1)
    _write(overlay1, 0, 0x22)                       # the volume changes after s1
    drv.create_snapshot({"id": "s2"}, v)
    _write(tmp_path / "volume-v.s2", 0, 0x33)
    # volume from s1 has the data of s1's time, from s2 that of s2's time
    drv.create_volume_from_snapshot(vol("n1", 2), {"id": "s1"}, v)
    drv.create_volume_from_snapshot(vol("n2", 1), {"id": "s2"}, v)
    assert _reads(tmp_path / "volume-n1", 0, 0x11)
    assert _info(tmp_path / "volume-n1")["virtual-size"] == 2 * GiB
    assert _reads(tmp_path / "volume-n2", 0, 0x22)
    drv.create_cloned_volume(vol("c", 1), v)
    assert _reads(tmp_path / "volume-c", 0, 0x33)
    # delete the older snapshot (not active): merged, the chain still reads
    drv.delete_snapshot({"id": "s1"}, v)
    assert not overlay1.exists()
    assert _info(tmp_path / "volume-v.s2")["backing-filename"] == "volume-v"
    assert _reads(tmp_path / "volume-v.s2", 0, 0x33)
    drv.create_volume_from_snapshot(vol("n3", 1), {"id": "s2"}, v)
    assert _reads(tmp_path / "volume-n3", 0, 0x22)
    # delete the newest (active) one: committed into the base, base active again
    drv.delete_snapshot({"id": "s2"}, v)
    assert drv.active_path(v) == str(base)
    assert _reads(base, 0, 0x33)
    drv.delete_snapshot({"id": "s2"}, v)            # idempotent
    drv.delete_volume(v)
    assert not [n for n in os.listdir(tmp_path) if n.startswith("volume-v")]


def test_thick_volumes_are_preallocated(tmp_path):
    d = FileDriver(backend="f", conf=_conf(tmp_path, sparse=False), host="h")
    d.create_volume(vol("t", 1))
    assert os.stat(tmp_path / "volume-t").st_blocks * 512 >= GiB
    assert d.get_pools()[0]["thick_provisioning_support"]
