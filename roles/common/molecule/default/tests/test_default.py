"""Verify roles/common on its molecule instance."""


def test_base_packages(host):
    for name in ("python3", "iproute2", "procps", "sudo"):
        assert host.package(name).is_installed, name


def test_etc_hosts_block(host):
    hosts = host.file("/etc/hosts").content_string
    assert "# BEGIN controlplane hosts (managed by Ansible)" in hosts
    assert "# END controlplane hosts (managed by Ansible)" in hosts


def test_own_name_in_etc_hosts(host):
    name = host.check_output("hostname")
    address = host.check_output("hostname -I").split()[0]
    assert "%s %s" % (address, name) in host.file("/etc/hosts").content_string
