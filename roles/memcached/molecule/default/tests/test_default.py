"""Verify roles/memcached: listening on the host's address and loopback."""


def _address(host):
    return host.check_output("hostname -I").split()[0]


def test_memcached_running(host):
    svc = host.service("memcached")
    assert svc.is_running
    assert svc.is_enabled


def test_memcached_listens_on_host_address(host):
    assert host.socket("tcp://%s:11211" % _address(host)).is_listening
    assert host.socket("tcp://127.0.0.1:11211").is_listening
    assert not host.socket("tcp://0.0.0.0:11211").is_listening


def test_memcached_answers(host):
    out = host.check_output("printf 'stats\\r\\nquit\\r\\n' | nc -q1 127.0.0.1 11211")
    assert "STAT uptime" in out
