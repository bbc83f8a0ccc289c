"""TCP socket options shared by the broker and database connections.

A peer that vanishes without closing its connections (a host powered off,
fenced, or cut off by a partition; a VIP that moved to another node) leaves
a blocked read waiting forever and unacknowledged data retransmitted for
about 15 minutes (tcp(7), ``tcp_retries2``). :func:`dead_peer_options`
bounds both: ``TCP_USER_TIMEOUT`` fails a socket whose sent data stays
unacknowledged that long, and keepalive probes (the first after that many
idle seconds, then one a second) fail an idle or waiting one. A probe to
a VIP that moved is answered with a reset by its new holder at once.
"""
import logging
import socket

LOG = logging.getLogger(__name__)


def dead_peer_options(seconds):
    """``{option name: value}`` detecting a dead peer within about
    ``2 * seconds`` (``TCP_USER_TIMEOUT`` in milliseconds, ``TCP_KEEPIDLE``,
    ``TCP_KEEPINTVL``, ``TCP_KEEPCNT``); None when ``seconds`` is 0/None."""
    if not seconds:
        return None
    seconds = max(1, int(seconds))
    return {"TCP_USER_TIMEOUT": seconds * 1000, "TCP_KEEPIDLE": seconds,
            "TCP_KEEPINTVL": 1, "TCP_KEEPCNT": seconds}


def apply_dead_peer_options(sock, seconds):
    """Turn keepalive on and set :func:`dead_peer_options` on ``sock``.

    :param sock: a connected socket, or None; anything but a TCP socket
        (a unix socket to a local server) is left as it is.
    :param seconds: as :func:`dead_peer_options`; 0/None changes nothing.
    Options the platform lacks are skipped (logged at debug level).
    """
    options = dead_peer_options(seconds)
    if not options or sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in options.items():
        try:
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
        except (AttributeError, OSError) as exc:  # pragma: no cover - other platforms
            LOG.debug("cannot set %s=%s on a socket: %s", name, value, exc)
