"""Verify roles/keystone on its molecule instance."""
import json


def _address(host):
    return host.check_output("hostname -I").split()[0]


def test_keystone_running_on_node_address(host):
    assert host.service("keystone").is_running
    assert host.service("keystone").is_enabled
    assert host.socket("tcp://%s:5000" % _address(host)).is_listening


def test_keys_private_to_keystone(host):
    for repo in ("fernet-keys", "credential-keys"):
        d = host.file("/etc/keystone/" + repo)
        assert d.user == "keystone" and d.mode == 0o700
        assert "0" in d.listdir()
        for name in d.listdir():
            f = host.file("/etc/keystone/%s/%s" % (repo, name))
            assert f.mode == 0o600 and f.user == "keystone"


def test_conf_not_world_readable(host):
    conf = host.file("/etc/keystone/keystone.conf")
    assert conf.mode == 0o640 and conf.group == "keystone"
    assert "provider = fernet" in conf.content_string


def test_catalog_and_demo_user(host):
    """The admin gets a token on the node's address; the catalog holds
    identity, compute and image; the demo user is a member of demo."""
    url = "http://%s:5000/v3" % _address(host)
    out = host.check_output(
        "/opt/keystone/bin/python -c \"import json, sys, urllib.request as u; "
        "print(u.urlopen('%s').status)\"" % url)
    assert out == "200"
    services = host.check_output(
        "mysql -NBe 'SELECT type FROM keystone.service'").split()
    assert {"identity", "compute", "image"} <= set(services)
    users = host.check_output("mysql -NBe 'SELECT name FROM keystone.local_user'").split()
    assert {"admin", "controlplane", "glance", "demo"} <= set(users)
    projects = json.loads(host.check_output(
        "mysql -NBe \"SELECT JSON_ARRAYAGG(name) FROM keystone.project WHERE is_domain = 0\""))
    assert {"admin", "service", "demo"} <= set(projects)
