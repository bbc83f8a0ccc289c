"""Verify roles/memcached: listening on the host's address and loopback."""


def test_memcached_running(host):
    svc = host.service("memcached")
    assert svc.is_running
    assert svc.is_enabled


def test_memcached_listens_on_host_address(host):
    address = host.ansible("setup")["ansible_facts"]["ansible_default_ipv4"]["address"]
    assert host.socket("tcp://%s:11211" % address).is_listening
    assert host.socket("tcp://127.0.0.1:11211").is_listening
    assert not host.socket("tcp://0.0.0.0:11211").is_listening


def test_memcached_answers(host):
    out = host.check_output("printf 'stats\\r\\nquit\\r\\n' | nc -q1 127.0.0.1 11211")
    assert "STAT uptime" in out
