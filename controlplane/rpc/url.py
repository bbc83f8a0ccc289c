"""Parsing of ``transport_url`` (oslo.messaging's URL form).

``rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost?heartbeat=30``

* scheme ``rabbit`` (or ``amqp``);
* one or more comma-separated hosts, each ``[user[:password]@]host[:port]``;
  IPv6 addresses in brackets (``[::1]:5672``); the port defaults to 5672;
  a host without credentials takes those of the previous host, or
  ``guest``/``guest`` for the first;
* the virtual host is the path without its leading ``/``, percent-decoded;
  an empty path means ``/`` (``%2F`` also means ``/``);
* query options are kept as strings in :attr:`TransportURL.options`;
  ``heartbeat`` (seconds, int >= 0) is checked and exposed as
  :attr:`TransportURL.heartbeat`.

User names, passwords and vhosts with ``@ : / , ? #`` must be
percent-encoded.
"""
import dataclasses
import urllib.parse

from controlplane.rpc.exceptions import InvalidTransportURL

DEFAULT_PORT = 5672
_SCHEMES = ("rabbit", "amqp")


@dataclasses.dataclass(frozen=True)
class HostSpec:
    """One broker of a transport URL: ``(host, port, user, password)``."""
    host: str
    port: int
    user: str
    password: str = dataclasses.field(repr=False)

    def __iter__(self):
        return iter((self.host, self.port, self.user, self.password))

    def __str__(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.port)


@dataclasses.dataclass(frozen=True)
class TransportURL:
    """A parsed transport URL.

    :ivar hosts: list of :class:`HostSpec` (iterable as
        ``(host, port, user, password)``), in URL order.
    :ivar virtual_host: AMQP virtual host, ``"/"`` by default.
    :ivar options: query options as ``{name: str}``.
    :ivar scheme: ``"rabbit"`` or ``"amqp"``.
    """
    hosts: list
    virtual_host: str = "/"
    options: dict = dataclasses.field(default_factory=dict)
    scheme: str = "rabbit"

    @property
    def vhost(self):
        """Alias of :attr:`virtual_host`."""
        return self.virtual_host

    @property
    def heartbeat(self):
        """``heartbeat`` query option in seconds, or None when not given."""
        value = self.options.get("heartbeat")
        return None if value is None else int(value)

    @classmethod
    def parse(cls, url):
        """Parse ``url`` into a :class:`TransportURL`.

        :raises InvalidTransportURL: (a ``ValueError``) naming what is wrong:
            empty URL, unknown scheme, no host, empty host name, bad port,
            bad ``heartbeat``.
        """
        if isinstance(url, TransportURL):
            return url
        if not isinstance(url, str) or not url.strip():
            raise InvalidTransportURL("Empty transport URL")
        url = url.strip()
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise InvalidTransportURL(
                "Transport URL %r has no scheme; expected "
                "rabbit://user:pass@host:port/vhost" % _mask(url))
        scheme = scheme.lower()
        if scheme not in _SCHEMES:
            raise InvalidTransportURL(
                "Unsupported transport URL scheme %r (expected one of %s)"
                % (scheme, ", ".join(_SCHEMES)))
        rest, _, _fragment = rest.partition("#")
        rest, _, query = rest.partition("?")
        netloc, slash, path = rest.partition("/")
        if not netloc:
            raise InvalidTransportURL(
                "Transport URL %r names no host" % _mask(url))
        hosts = []
        user, password = "guest", "guest"
        for index, entry in enumerate(netloc.split(",")):
            host, port, user, password = _parse_host(
                entry, index, user, password, url)
            hosts.append(HostSpec(host, port, user, password))
        vhost = urllib.parse.unquote(path) if path else "/"
        options = {}
        for key, value in urllib.parse.parse_qsl(query,
                                                 keep_blank_values=True):
            options[key] = value
        if "heartbeat" in options:
            try:
                hb = int(options["heartbeat"])
            except ValueError:
                hb = -1
            if hb < 0:
                raise InvalidTransportURL(
                    "heartbeat=%r in transport URL is not an integer >= 0"
                    % options["heartbeat"])
        return cls(hosts=hosts, virtual_host=vhost, options=options,
                   scheme=scheme)

    def to_string(self, mask_password=True):
        """The URL back as text; passwords shown as ``***`` by default."""
        parts = []
        for h in self.hosts:
            pw = "***" if mask_password else urllib.parse.quote(h.password,
                                                                safe="")
            parts.append("%s:%s@%s" % (urllib.parse.quote(h.user, safe=""),
                                       pw, h))
        vhost = "" if self.virtual_host == "/" else urllib.parse.quote(
            self.virtual_host, safe="")
        text = "%s://%s/%s" % (self.scheme, ",".join(parts), vhost)
        if self.options:
            text += "?" + urllib.parse.urlencode(self.options)
        return text

    def __str__(self):
        return self.to_string(mask_password=True)


def _mask(url):
    """The URL with anything between ``:`` and ``@`` of a host hidden."""
    out = []
    for entry in url.split(","):
        creds, at, host = entry.rpartition("@")
        if at and ":" in creds.split("//")[-1]:
            head, _, _pw = creds.rpartition(":")
            entry = "%s:***@%s" % (head, host)
        out.append(entry)
    return ",".join(out)


def _parse_host(entry, index, user, password, url):
    """``[user[:password]@]host[:port]`` → (host, port, user, password)."""
    creds, at, hostport = entry.rpartition("@")
    if at:
        u, colon, p = creds.partition(":")
        user = urllib.parse.unquote(u)
        password = urllib.parse.unquote(p) if colon else ""
    if not hostport:
        raise InvalidTransportURL(
            "Host %d of transport URL %r is empty" % (index + 1, _mask(url)))
    port_text = None
    if hostport.startswith("["):
        host, bracket, tail = hostport[1:].partition("]")
        if not bracket or not host:
            raise InvalidTransportURL(
                "Bad IPv6 host %r in transport URL" % hostport)
        if tail:
            if not tail.startswith(":"):
                raise InvalidTransportURL(
                    "Bad host %r in transport URL" % hostport)
            port_text = tail[1:]
    else:
        host, colon, port_text = hostport.partition(":")
        if not colon:
            port_text = None
        if not host:
            raise InvalidTransportURL(
                "Host %d of transport URL %r has no host name"
                % (index + 1, _mask(url)))
    port = DEFAULT_PORT
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidTransportURL(
                "Bad port %r for host %r in transport URL" % (port_text, host))
        port = int(port_text)
    return host, port, user, password
