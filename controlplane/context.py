"""The request context passed from the API through RPC to every service.

A :class:`RequestContext` says who asks (user, project, roles) and carries
the request id that ties log lines of all services together.
"""
import dataclasses
import uuid


def generate_request_id():
    """Return a new request id in the OpenStack form ``req-<uuid4>``."""
    return "req-" + str(uuid.uuid4())


@dataclasses.dataclass
class RequestContext:
    """Who is asking and for which request.

    :ivar user_id, project_id: Keystone ids (strings), None for a service.
    :ivar roles: role names of the token (``reader``, ``member``, ``admin``).
    :ivar request_id: ``req-<uuid>``, from the ``X-OpenStack-Request-Id``.
    :ivar auth_token: the Keystone token, used to call Glance on the user's
        behalf; never put into logs.
    """
    user_id: str | None = None
    project_id: str | None = None
    roles: list = dataclasses.field(default_factory=list)
    request_id: str = dataclasses.field(default_factory=generate_request_id)
    auth_token: str | None = None
    user_name: str | None = None
    project_name: str | None = None
    service_catalog: list = dataclasses.field(default_factory=list)
    read_deleted: str = "no"

    @property
    def is_admin(self):
        return "admin" in self.roles

    def to_dict(self):
        """Plain dict for an RPC message (the token is left out)."""
        d = dataclasses.asdict(self)
        d.pop("auth_token", None)
        d.pop("service_catalog", None)
        return d

    @classmethod
    def from_dict(cls, values):
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (values or {}).items() if k in fields})

    @classmethod
    def admin(cls):
        """A context for a service acting on its own (periodic tasks, manage)."""
        return cls(roles=["admin"])

    @classmethod
    def coerce(cls, ctxt):
        """The context an RPC endpoint method was given, as a RequestContext:
        ``None`` → :meth:`admin` (a call without context), a dict (as sent
        on the wire) → :meth:`from_dict`, anything else is returned as is."""
        if ctxt is None:
            return cls.admin()
        if isinstance(ctxt, dict):
            return cls.from_dict(ctxt)
        return ctxt
