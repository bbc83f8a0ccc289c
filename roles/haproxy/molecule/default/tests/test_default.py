"""Verify roles/haproxy on one node started by the role itself: valid
configuration, the VIP's frontends listening although the VIP is not on
the node (ip_nonlocal_bind), traffic served once the address arrives,
password-protected stats page on the node's own address."""
import os

VIP = "192.0.2.10"


def _address(host):
    return host.check_output("hostname -i").split()[0]


def _http_status(host, url, auth=None):
    code = ("import urllib.request as u, urllib.error as e, base64, sys\n"
            "r = u.Request(sys.argv[1])\n"
            "if len(sys.argv) > 2: r.add_header('Authorization', 'Basic ' + "
            "base64.b64encode(sys.argv[2].encode()).decode())\n"
            "try: print(u.urlopen(r, timeout=5).status)\n"
            "except e.HTTPError as x: print(x.code)\n")
    # testinfra quotes the arguments given after the format string.
    if auth:
        return host.check_output("python3 -c %s %s %s", code, url, auth)
    return host.check_output("python3 -c %s %s", code, url)


def test_haproxy_enabled_and_running(host):
    assert host.service("haproxy").is_enabled
    assert host.service("haproxy").is_running
    host.run_test("haproxy -c -q -f /etc/haproxy/haproxy.cfg")


def test_nonlocal_bind(host):
    assert host.file("/proc/sys/net/ipv4/ip_nonlocal_bind").content_string.strip() == "1"
    cfg = host.file("/etc/haproxy/haproxy.cfg").content_string
    assert "transparent" not in cfg
    for port in (8774, 8776, 5000, 9292, 3306):
        assert host.socket("tcp://%s:%d" % (VIP, port)).is_listening


def test_check_settings(host):
    cfg = host.file("/etc/haproxy/haproxy.cfg").content_string
    assert "default-server inter 1s fall 2 rise 2" in cfg
    # Every proxied service (every listen section but the stats page) is
    # health-checked.
    assert cfg.count("option httpchk GET /") == cfg.count("\nlisten ") - 1
    assert "timeout server 3700s" in cfg


def test_vip_served_once_the_address_arrives(host):
    host.run_test("ip addr add %s/32 dev lo" % VIP)
    try:
        # No backend runs here: HAProxy itself answers 503.
        assert _http_status(host, "http://%s:5000/" % VIP) == "503"
    finally:
        host.run_test("ip addr del %s/32 dev lo" % VIP)


def test_stats_page_password_protected(host):
    url = "http://%s:8404/" % _address(host)
    assert _http_status(host, url) == "401"
    secrets = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if secrets:
        with open(os.path.join(secrets, "secrets", "haproxy_stats")) as f:
            password = f.read().strip()
        assert _http_status(host, url, "admin:" + password) == "200"
