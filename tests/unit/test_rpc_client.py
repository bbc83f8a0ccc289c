"""Unit tests of RPCClient options and host rotation (no broker needed)."""
from controlplane.rpc import RPCClient, TransportURL, get_transport
from controlplane.rpc import connection as connection_mod
from controlplane.rpc.client import fanout_exchange

URL = "rabbit://u:p@127.0.0.1:5999,u:p@127.0.0.2:5999/unit_rpc"


def test_prepare_returns_a_copy():
    client = RPCClient(URL, "compute", timeout=7)
    other = client.prepare(server="host1", timeout=3)
    assert other is not client
    assert (other.server, other.timeout) == ("host1", 3)
    assert (client.server, client.timeout) == (None, 7)
    assert other.transport is client.transport
    assert other._routing_key(None) == "compute.host1"
    assert client._routing_key(None) == "compute"
    assert client._routing_key("h2") == "compute.h2"
    assert fanout_exchange("scheduler") == "scheduler_fanout"


def test_default_timeout_comes_from_conf():
    from controlplane.conf import CONF
    assert RPCClient(URL, "t")._timeout(None) == CONF.rpc_response_timeout
    assert RPCClient(URL, "t", timeout=2)._timeout(None) == 2
    assert RPCClient(URL, "t", timeout=2)._timeout(0.5) == 0.5


def test_transport_shared_per_url():
    assert get_transport(URL) is get_transport(URL)
    assert get_transport(TransportURL.parse(URL)) is get_transport(URL)
    assert get_transport(get_transport(URL)) is get_transport(URL)


def test_start_host_rotates_over_all_hosts():
    url = TransportURL.parse(URL)
    starts = [connection_mod._next_start(url) for _ in range(4)]
    assert sorted(set(starts)) == [0, 1]
    assert starts[0] != starts[1] and starts[0] == starts[2]


def test_heartbeat_from_url_or_conf():
    from controlplane.conf import CONF
    assert connection_mod.heartbeat_for(TransportURL.parse(URL)) == \
        CONF.rpc_heartbeat
    assert connection_mod.heartbeat_for(
        TransportURL.parse(URL + "?heartbeat=5")) == 5
    params = connection_mod.connection_parameters(
        TransportURL.parse(URL), TransportURL.parse(URL).hosts[1],
        heartbeat=7, name="x")
    assert (params.host, params.port, params.virtual_host, params.heartbeat) \
        == ("127.0.0.2", 5999, "unit_rpc", 7)


def test_tcp_options_bound_a_dead_broker():
    # A broker host cut off by a partition must fail a blocked publish within
    # rpc_tcp_user_timeout, not after the kernel's ~15 minutes.
    from controlplane.conf import CONF
    opts = connection_mod.tcp_options(5)
    assert opts == {"TCP_USER_TIMEOUT": 5000, "TCP_KEEPIDLE": 5,
                    "TCP_KEEPINTVL": 1, "TCP_KEEPCNT": 5}
    assert connection_mod.tcp_options(0) is None
    params = connection_mod.connection_parameters(
        TransportURL.parse(URL), TransportURL.parse(URL).hosts[0])
    assert params.tcp_options == connection_mod.tcp_options(CONF.rpc_tcp_user_timeout)
    assert params.tcp_options["TCP_USER_TIMEOUT"] == CONF.rpc_tcp_user_timeout * 1000


def test_tcp_connect_bounded_by_rpc_connect_timeout(conf):
    # A host cut off by a partition drops the SYN: the next host must be
    # tried after rpc_connect_timeout, while the AMQP handshake of a host
    # that answered keeps the longer HOST_CONNECT_TIMEOUT.
    url = TransportURL.parse(URL)
    params = connection_mod.connection_parameters(url, url.hosts[0])
    assert params.socket_timeout == conf.rpc_connect_timeout == 3.0
    assert params.stack_timeout == connection_mod.HOST_CONNECT_TIMEOUT
    conf.set_override("rpc_connect_timeout", 1.5)
    params = connection_mod.connection_parameters(url, url.hosts[0], timeout=0.8)
    assert (params.socket_timeout, params.stack_timeout) == (0.8, 1.0)
    params = connection_mod.connection_parameters(url, url.hosts[0])
    assert params.socket_timeout == 1.5
