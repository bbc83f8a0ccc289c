"""Verify roles/controlplane on its molecule instance (one node that is
controller and compute)."""


def _address(host):
    return host.check_output("hostname -I").split()[0]


def test_every_service_running(host):
    for svc in ("api", "conductor", "scheduler", "compute"):
        unit = host.service("controlplane-" + svc)
        assert unit.is_running, svc
        assert unit.is_enabled, svc


def test_api_on_node_address(host):
    assert host.socket("tcp://%s:8774" % _address(host)).is_listening


def test_conf_private(host):
    conf = host.file("/etc/controlplane/controlplane.conf")
    assert conf.mode == 0o640 and conf.group == "controlplane" and conf.user == "root"
    text = conf.content_string
    assert "transport_url = rabbit://controlplane:" in text
    assert "@%s:5672/controlplane" % _address(host) in text
    assert "storage_uri = memcached://" in text


def test_cells_and_host_mapped(host):
    out = host.check_output(
        "/opt/controlplane/bin/controlplane-manage --config-file "
        "/etc/controlplane/controlplane.conf cell_v2 list_hosts")
    assert host.check_output("hostname") in out
    cells = host.check_output(
        "/opt/controlplane/bin/controlplane-manage --config-file "
        "/etc/controlplane/controlplane.conf cell_v2 list_cells")
    assert "cell0" in cells and "cell1" in cells
