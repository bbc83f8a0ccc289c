#!/usr/bin/python3
"""HTTP health check of one Galera node, for HAProxy ("clustercheck").

GET (any path) answers 200 while the local node is ready and its
wsrep_local_state_comment is Synced (or Donor/Desynced when started with
--available-when-donor), and 503 otherwise, including when MariaDB cannot
be reached. The body says why. HAProxy uses it with
`option httpchk` + `check port 9200`.

It logs into MariaDB through the unix socket as the OS user it runs as
(unix_socket authentication; no password, no grant needed for SHOW STATUS).
Installed by roles/galera.
"""
import argparse
import http.server
import logging

import pymysql

LOG = logging.getLogger("galera-clustercheck")


def node_state(socket_path):
    """Query the local node through ``socket_path``.

    Returns ``(status, None)`` where status maps wsrep_local_state_comment,
    wsrep_ready and wsrep_cluster_status to their string values, or
    ``(None, reason)`` when MariaDB cannot be queried.
    """
    try:
        conn = pymysql.connect(unix_socket=socket_path, connect_timeout=2,
                               read_timeout=2)
    except pymysql.MySQLError as exc:
        return None, "cannot connect to MariaDB: %s" % exc
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN "
                        "('wsrep_local_state_comment', 'wsrep_ready', "
                        "'wsrep_cluster_status')")
            status = dict(cur.fetchall())
    finally:
        conn.close()
    return status, None


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers every GET/HEAD/OPTIONS with the node's health."""

    server_version = "galera-clustercheck/1"

    def _answer(self, with_body=True):
        status, error = node_state(self.server.socket_path)
        if error:
            ok, reason = False, error
        else:
            state = status.get("wsrep_local_state_comment", "unknown")
            allowed = {"Synced"}
            if self.server.available_when_donor:
                allowed |= {"Donor/Desynced"}
            ok = (state in allowed and status.get("wsrep_ready") == "ON"
                  and status.get("wsrep_cluster_status") == "Primary")
            reason = "Galera node is %s (ready=%s, cluster=%s)" % (
                state, status.get("wsrep_ready"), status.get("wsrep_cluster_status"))
        body = (reason + "\r\n").encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._answer()

    def do_OPTIONS(self):  # noqa: N802
        self._answer()

    def do_HEAD(self):  # noqa: N802
        self._answer(with_body=False)

    def log_message(self, fmt, *args):
        LOG.debug("%s " + fmt, self.client_address[0], *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--socket", default="/run/mysqld/mysqld.sock")
    parser.add_argument("--available-when-donor", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = http.server.ThreadingHTTPServer((args.bind, args.port), Handler)
    server.socket_path = args.socket
    server.available_when_donor = args.available_when_donor
    LOG.info("galera-clustercheck listening on %s:%d", args.bind, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
