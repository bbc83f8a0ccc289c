"""Unit tests of transport URL parsing (controlplane.rpc.url)."""
import pytest

from controlplane.rpc import InvalidTransportURL, TransportURL


def test_two_hosts_and_vhost():
    url = TransportURL.parse("rabbit://u:p@h1:5672,u2:p2@h2:5673/vhost")
    assert [tuple(h) for h in url.hosts] == [
        ("h1", 5672, "u", "p"), ("h2", 5673, "u2", "p2")]
    assert url.virtual_host == "vhost"
    assert url.vhost == "vhost"
    assert url.heartbeat is None


@pytest.mark.parametrize("text", [
    "rabbit://guest:guest@127.0.0.1:5672/",
    "rabbit://guest:guest@127.0.0.1:5672",
    "rabbit://guest:guest@127.0.0.1:5672/%2F",
])
def test_default_vhost_is_slash(text):
    assert TransportURL.parse(text).virtual_host == "/"


def test_default_port_and_inherited_credentials():
    url = TransportURL.parse("rabbit://a:b@h1,h2:5999/v")
    assert tuple(url.hosts[0]) == ("h1", 5672, "a", "b")
    assert tuple(url.hosts[1]) == ("h2", 5999, "a", "b")


def test_no_credentials_means_guest():
    url = TransportURL.parse("amqp://localhost/")
    assert tuple(url.hosts[0]) == ("localhost", 5672, "guest", "guest")
    assert url.scheme == "amqp"


def test_percent_encoded_parts():
    url = TransportURL.parse("rabbit://us%40er:p%2Fa%3Ass%40@h:1/my%2Fvhost")
    assert url.hosts[0].user == "us@er"
    assert url.hosts[0].password == "p/a:ss@"
    assert url.virtual_host == "my/vhost"


def test_ipv6_host():
    url = TransportURL.parse("rabbit://u:p@[::1]:5673,[fe80::1]/v")
    assert tuple(url.hosts[0]) == ("::1", 5673, "u", "p")
    assert url.hosts[1].host == "fe80::1"
    assert url.hosts[1].port == 5672


def test_query_options():
    url = TransportURL.parse("rabbit://u:p@h:5672/v?heartbeat=30&foo=bar")
    assert url.heartbeat == 30
    assert url.options == {"heartbeat": "30", "foo": "bar"}


def test_str_masks_password():
    url = TransportURL.parse("rabbit://u:secret@h1:5672,u:secret@h2:5672/v")
    assert "secret" not in str(url)
    assert "secret" in url.to_string(mask_password=False)
    again = TransportURL.parse(url.to_string(mask_password=False))
    assert again == url


def test_parse_accepts_parsed_url():
    url = TransportURL.parse("rabbit://h/")
    assert TransportURL.parse(url) is url


@pytest.mark.parametrize("text, words", [
    ("", "Empty"),
    (None, "Empty"),
    ("127.0.0.1:5672", "no scheme"),
    ("http://h:5672/", "scheme"),
    ("rabbit:///vhost", "no host"),
    ("rabbit://u:p@h1:5672,/v", "empty"),
    ("rabbit://u:p@:5672/v", "no host name"),
    ("rabbit://u:p@h:notaport/v", "Bad port"),
    ("rabbit://u:p@h:70000/v", "Bad port"),
    ("rabbit://u:p@h:0/v", "Bad port"),
    ("rabbit://u:p@[::1/v", "IPv6"),
    ("rabbit://u:p@h/v?heartbeat=soon", "heartbeat"),
    ("rabbit://u:p@h/v?heartbeat=-1", "heartbeat"),
])
def test_bad_urls_raise_value_error(text, words):
    with pytest.raises(ValueError) as info:
        TransportURL.parse(text)
    assert isinstance(info.value, InvalidTransportURL)
    assert words.lower() in str(info.value).lower()


def test_error_message_hides_password():
    with pytest.raises(ValueError) as info:
        TransportURL.parse("rabbit://u:topsecret@h1:5672,/v")
    assert "topsecret" not in str(info.value)
