"""Exceptions shared by every package.

Each exception carries a human-readable ``message`` and an HTTP-like
``code`` (the API turns it into the response status, the RPC layer carries
``type(exc).__name__`` and the message as a ``RemoteError``). Packages add
their own subclasses here; keep them grouped by area.
"""


class ControlPlaneException(Exception):
    """Base class: ``ControlPlaneException(message=None, code=None)``.

    Subclasses set ``msg_fmt`` (formatted with the keyword arguments) and
    ``code``; an explicit ``message`` wins over ``msg_fmt``.
    """

    msg_fmt = "An unknown exception occurred."
    code = 500

    def __init__(self, message=None, code=None, **kwargs):
        self.kwargs = kwargs
        if code is not None:
            self.code = code
        if message is None:
            try:
                message = self.msg_fmt % kwargs if kwargs else self.msg_fmt
            except (KeyError, TypeError, ValueError):
                message = self.msg_fmt
        self.message = str(message)
        super().__init__(self.message)

    def __str__(self):
        return self.message


class NotFound(ControlPlaneException):
    msg_fmt = "Resource could not be found."
    code = 404


class Conflict(ControlPlaneException):
    msg_fmt = "Conflict."
    code = 409


class Invalid(ControlPlaneException):
    msg_fmt = "Unacceptable parameters."
    code = 400


# --- scheduler -------------------------------------------------------------

class NoValidHost(ControlPlaneException):
    """No host passed the filters (or every claim failed).

    ``NoValidHost(reason="...")`` gives ``"No valid host was found. <reason>"``.
    """
    msg_fmt = "No valid host was found. %(reason)s"
    code = 400

    def __init__(self, message=None, code=None, reason=None, **kwargs):
        if message is None:
            kwargs["reason"] = reason or ""
        super().__init__(message, code, **kwargs)


class SchedulerConfigError(ControlPlaneException):
    """An unknown filter or weigher name in the configuration."""
    msg_fmt = "Scheduler configuration error: %(reason)s"
    code = 500


# --- aggregates ------------------------------------------------------------

class AggregateNotFound(NotFound):
    msg_fmt = "Aggregate %(aggregate_id)s could not be found."


class AggregateNameExists(Conflict):
    msg_fmt = "Aggregate %(aggregate_name)s already exists."


class AggregateHostExists(Conflict):
    msg_fmt = "Aggregate %(aggregate_id)s already has host %(host)s."


class AggregateHostNotFound(NotFound):
    msg_fmt = "Aggregate %(aggregate_id)s has no host %(host)s."


class AggregateNotEmpty(Invalid):
    msg_fmt = "Cannot delete aggregate %(aggregate_id)s: its host list is not empty."


class AvailabilityZoneConflict(Conflict):
    msg_fmt = ("Host %(host)s is already in availability zone %(existing)s; "
               "it cannot also be in %(requested)s.")


# --- compute nodes ---------------------------------------------------------

class ComputeNodeNotFound(NotFound):
    msg_fmt = "Compute node %(node)s could not be found."


# --- cells -----------------------------------------------------------------

class HostMappingNotFound(NotFound):
    msg_fmt = "Host %(host)s is not mapped to any cell."


class InstanceMappingNotFound(NotFound):
    msg_fmt = "Instance %(instance_uuid)s could not be found."


# --- flavors, key pairs, server groups (API resources engineer) -------------

class FlavorNotFound(NotFound):
    msg_fmt = "Flavor %(flavor_id)s could not be found."


class FlavorExists(Conflict):
    msg_fmt = "Flavor with name %(name)s already exists."


class FlavorIdExists(Conflict):
    msg_fmt = "Flavor with ID %(flavor_id)s already exists."


class FlavorExtraSpecsNotFound(NotFound):
    msg_fmt = "Flavor %(flavor_id)s has no extra specs with key %(extra_specs_key)s."


class FlavorAccessExists(Conflict):
    msg_fmt = "Flavor access already exists for flavor %(flavor_id)s and project %(project_id)s combination."


class FlavorAccessNotFound(NotFound):
    msg_fmt = "Flavor access not found for %(flavor_id)s / %(project_id)s combination."


class MarkerNotFound(NotFound):
    """Nova answers an unknown pagination marker with 400."""
    msg_fmt = "Marker %(marker)s could not be found."
    code = 400


class KeypairNotFound(NotFound):
    msg_fmt = "Keypair %(name)s not found for user %(user_id)s"


class KeyPairExists(Conflict):
    msg_fmt = "Key pair '%(key_name)s' already exists."


class InstanceGroupNotFound(NotFound):
    msg_fmt = "Instance group %(group_uuid)s could not be found."


class OverQuota(ControlPlaneException):
    """A counted resource would exceed its limit (HTTP 403 in the API).

    ``OverQuota(resource="key_pairs", limit=100, count=100)``.
    """
    msg_fmt = "Quota exceeded for %(resource)s: limit %(limit)s, in use %(count)s."
    code = 403
