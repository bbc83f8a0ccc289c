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
