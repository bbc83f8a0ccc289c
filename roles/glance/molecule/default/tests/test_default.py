"""Verify roles/glance on its molecule instance."""


def _address(host):
    return host.check_output("hostname -I").split()[0]


def test_glance_running_on_node_address(host):
    assert host.service("glance-api").is_running
    assert host.service("glance-api").is_enabled
    assert host.socket("tcp://%s:9292" % _address(host)).is_listening


def test_conf_private(host):
    conf = host.file("/etc/glance/glance-api.conf")
    assert conf.mode == 0o640 and conf.group == "glance"
    assert "flavor = keystone" in conf.content_string


def test_cirros_uploaded_once_and_public(host):
    rows = host.check_output(
        "mysql -NBe \"SELECT status, visibility FROM glance.images "
        "WHERE name = 'cirros' AND deleted = 0\"").splitlines()
    assert rows == ["active\tpublic"]
    prop = host.check_output(
        "mysql -NBe \"SELECT p.value FROM glance.image_properties p JOIN glance.images i "
        "ON i.id = p.image_id WHERE i.name = 'cirros' AND i.deleted = 0 "
        "AND p.name = 'hypervisor_type'\"")
    assert prop == "fake"
