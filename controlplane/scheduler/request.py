"""The request as the filters see it: a parsed request_spec.

:class:`SchedulingRequest` reads the request_spec dict built by the
conductor once (flavor → requested resources, extra specs, image
properties, hints, server group) and carries what the scheduler resolved
outside the filters (hosts of the ``same_host``/``different_host``
instances, member counts per host of the server group) and what changes
between the picks of one multi-instance request (hosts already chosen).
"""
import collections
import json
import logging

from controlplane.scheduler.host_state import allocation_for

LOG = logging.getLogger(__name__)


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [v for v in value if v]
    return [value] if value else []


class SchedulingRequest:
    """A request_spec prepared for filtering and weighing.

    :param request_spec: the conductor's dict (see docs/architecture.md).
    :param instance_hosts: ``{instance_uuid: host}`` of the instances named
        in ``same_host``/``different_host`` hints and of the server group's
        members (the manager looks them up in the cells); None when not
        looked up.

    Attributes used by filters: ``allocation`` (``{"vcpus","memory_mb",
    "disk_gb"}``), ``extra_specs``, ``image_props``, ``image_min_ram``,
    ``image_min_disk``, ``availability_zone``, ``json_query`` (parsed or
    None), ``same_host_hosts`` / ``different_host_hosts`` (sets or None when
    the hint is absent), ``group_policy``, ``group_hosts`` (set),
    ``group_host_counts`` (Counter: members of the group per host),
    ``max_server_per_host``, ``force_hosts``, ``force_nodes``,
    ``ignore_hosts``, ``cache`` (per-request memo for static filters).
    """

    def __init__(self, request_spec, instance_hosts=None):
        spec = request_spec or {}
        self.spec = spec
        self.instance_uuid = spec.get("instance_uuid")
        flavor = spec.get("flavor") or {}
        self.flavor = flavor
        self.allocation = allocation_for(flavor)
        self.extra_specs = dict(flavor.get("extra_specs") or {})
        image = spec.get("image") or {}
        self.image_props = dict(image.get("properties") or {})
        self.image_min_ram = int(image.get("min_ram") or 0)
        self.image_min_disk = int(image.get("min_disk") or 0)
        self.availability_zone = spec.get("availability_zone") or None
        self.force_hosts = _as_list(spec.get("force_hosts"))
        self.force_nodes = _as_list(spec.get("force_nodes"))
        self.ignore_hosts = _as_list(spec.get("ignore_hosts"))
        hints = spec.get("scheduler_hints") or {}
        self.hints = hints
        self.json_query = self._parse_query(hints.get("query"))
        self.same_host_uuids = _as_list(hints.get("same_host"))
        self.different_host_uuids = _as_list(hints.get("different_host"))

        group = spec.get("instance_group") or None
        self.group = group
        self.group_policy = (group or {}).get("policy")
        rules = (group or {}).get("rules") or {}
        try:
            self.max_server_per_host = max(1, int(rules.get("max_server_per_host") or 1))
        except (TypeError, ValueError):
            self.max_server_per_host = 1
        self.group_members = _as_list((group or {}).get("members"))
        self.cache = {}
        self.resolve(instance_hosts or {})

    @staticmethod
    def _parse_query(query):
        if not query:
            return None
        if isinstance(query, (list, dict)):
            return query
        try:
            return json.loads(query)
        except (TypeError, ValueError) as exc:
            LOG.warning("Ignoring JsonFilter query that is not JSON (%s): %r", exc, query)
            return None

    def uuids_to_look_up(self):
        """Instance uuids whose hosts the filters need."""
        uuids = set(self.same_host_uuids) | set(self.different_host_uuids)
        if self.group_policy in ("anti-affinity", "affinity") and self.group_members:
            uuids |= set(self.group_members)
        return sorted(uuids)

    def resolve(self, instance_hosts):
        """Set the host sets from ``{uuid: host}`` (instances not found have no host)."""
        def hosts_of(uuids):
            return {instance_hosts[u] for u in uuids if instance_hosts.get(u)}
        self.same_host_hosts = hosts_of(self.same_host_uuids) if self.same_host_uuids else None
        self.different_host_hosts = (hosts_of(self.different_host_uuids)
                                     if self.different_host_uuids else None)
        counts = collections.Counter(
            instance_hosts[u] for u in self.group_members if instance_hosts.get(u))
        for h in _as_list((self.group or {}).get("hosts")):
            if counts[h] < 1:
                counts[h] = 1
        self.group_host_counts = counts
        self.group_hosts = set(counts)
        self.cache.clear()

    def record_pick(self, host, sign=1):
        """A host was chosen for one instance of this request (Nova adds it to
        the group's hosts so later picks honour (anti-)affinity)."""
        if self.group is None:
            return
        self.group_host_counts[host] += sign
        if self.group_host_counts[host] <= 0:
            del self.group_host_counts[host]
        self.group_hosts = set(self.group_host_counts)
