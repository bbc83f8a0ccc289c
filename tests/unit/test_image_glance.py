"""controlplane.image.glance against a small local HTTP server standing in
for Glance: connection reuse, error mapping, and the optional per-project
image cache (off by default, as Nova)."""
import http.server
import json
import threading

import pytest

from controlplane.context import RequestContext
from controlplane.image import glance

IMAGE_ID = "6a1f6e4c-5b0e-4a6f-9a39-3f4c1b2d8e01"


class _Glance(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, so connections can be reused
    hits = []
    peers = set()

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).hits.append((self.path, self.headers.get("X-Auth-Token")))
        type(self).peers.add(self.client_address)
        if self.path == "/v2/images/" + IMAGE_ID:
            body = json.dumps({"id": IMAGE_ID, "name": "cirros", "status": "active",
                               "min_ram": 0, "min_disk": 1, "disk_format": "qcow2",
                               "os_distro": "cirros"}).encode()
            self.send_response(200)
        else:
            body = b"{}"
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_glance(conf):
    _Glance.hits, _Glance.peers = [], set()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Glance)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    conf.set_override("api_servers", "http://127.0.0.1:%d" % server.server_port,
                      group="glance")
    glance.clear_image_cache()
    yield _Glance
    server.shutdown()
    server.server_close()
    glance.clear_image_cache()


def ctxt(project="p1", token="tok-1"):
    return RequestContext(user_id="u1", project_id=project, auth_token=token,
                          request_id="req-1")


def test_get_image_normalises_and_reuses_the_connection(fake_glance):
    for _ in range(3):
        image = glance.get_image(ctxt(), IMAGE_ID)
    assert image == {"id": IMAGE_ID, "name": "cirros", "status": "active", "min_ram": 0,
                     "min_disk": 1, "size": None,
                     "properties": {"os_distro": "cirros", "disk_format": "qcow2"}}
    assert fake_glance.hits == [("/v2/images/" + IMAGE_ID, "tok-1")] * 3   # no cache
    assert len(fake_glance.peers) == 1            # one kept-alive connection
    with pytest.raises(glance.ImageNotFound):
        glance.get_image(ctxt(), "nope")


def test_image_cache_is_per_project_and_keeps_no_errors(fake_glance, conf):
    conf.set_override("image_cache_ttl", 60, group="glance")
    first = glance.get_image(ctxt(), IMAGE_ID)
    first["properties"]["changed"] = True           # callers get copies
    again = glance.get_image(ctxt(token="tok-2"), IMAGE_ID)
    assert "changed" not in again["properties"]
    assert len(fake_glance.hits) == 1                # same project: from the cache
    glance.get_image(ctxt(project="p2"), IMAGE_ID)
    assert len(fake_glance.hits) == 2                # another project asks Glance
    for _ in range(2):
        with pytest.raises(glance.ImageNotFound):
            glance.get_image(ctxt(), "nope")
    assert len(fake_glance.hits) == 4                # not-found is never cached


class _ClosingGlance(_Glance):
    """Answers the first request of a connection, then drops the connection
    when the client reuses it (a keep-alive timeout racing the request)."""

    def do_GET(self):  # noqa: N802 - http.server API
        if getattr(self, "_served", False):
            self.close_connection = True
            self.connection.close()
            return
        self._served = True
        super().do_GET()


def test_a_dropped_kept_alive_connection_is_retried(fake_glance, conf):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ClosingGlance)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conf.set_override("api_servers", "http://127.0.0.1:%d" % server.server_port,
                      group="glance")
    try:
        for _ in range(3):
            assert glance.get_image(ctxt(), IMAGE_ID)["name"] == "cirros"
    finally:
        server.shutdown()
        server.server_close()


def test_unreachable_glance_is_unavailable(conf):
    conf.set_override("api_servers", "http://127.0.0.1:9", group="glance")
    conf.set_override("timeout", 2, group="glance")
    with pytest.raises(glance.ImageServiceUnavailable):
        glance.get_image(ctxt(), IMAGE_ID)
