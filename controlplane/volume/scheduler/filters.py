"""Volume scheduler filters (Cinder's names), vectorised over PoolStates.

Each filter's :meth:`mask` returns a bool array (True = the pool passes)
or None when the request gives it nothing to check. ``static`` filters
depend only on the request and on fields claims never change; their masks
are memoised per pool-state snapshot.

* **AvailabilityZoneFilter** — the pool's zone equals the requested one.
* **CapacityFilter** — Cinder's thick/thin rule with over-subscription and
  reserved percentage (:mod:`.capacity`).
* **CapabilitiesFilter** — every extra spec of the volume type matches the
  pool's capabilities: unscoped keys and ``capabilities:<key>``; other
  scopes (``provisioning:``, ``QoS:``...) are skipped; values use the
  extra-specs operators (``<is> True``, ``<in>``, ``<or>``, ``>=``,
  ``s==``...); a list capability matches when any element matches.
"""
import numpy as np

from controlplane.scheduler import extra_specs_ops
from controlplane.volume import exception as vexc
from controlplane.volume.scheduler import capacity


class BaseFilter:
    """A volume filter over all pool states at once.

    ``mask(states, req)`` returns a boolean numpy array of length
    ``states.n`` (True: the pool passes) or None (the filter does not
    apply to this request). ``static`` filters depend only on data that
    does not change between requests of one scheduling pass.
    """
    static = False

    @property
    def name(self):
        return type(self).__name__

    def mask(self, states, req):
        raise NotImplementedError


class AvailabilityZoneFilter(BaseFilter):
    """Cinder's AvailabilityZoneFilter: only pools of the requested
    availability zone (no zone asked: every pool)."""
    static = True

    def mask(self, states, req):
        if not req.availability_zone:
            return None
        code = states.az_index.get(req.availability_zone)
        if code is None:
            return np.zeros(states.n, dtype=bool)
        return states.az_codes == code


class CapacityFilter(BaseFilter):
    """Cinder's CapacityFilter: the size (GiB) must fit the pool's free
    space less ``reserved_percentage``; on thin pools within
    ``max_over_subscription_ratio`` of provisioned capacity
    (:mod:`controlplane.volume.scheduler.capacity` has the formulas)."""
    def mask(self, states, req):
        if req.size <= 0:
            return None
        return capacity.fits_mask(
            req.size, states.total_capacity_gb, states.free_capacity_gb,
            states.provisioned_capacity_gb, states.thin_support,
            states.max_over_subscription_ratio, states.reserved_percentage, req.thin)


def spec_matches(value, req):
    """Cinder's extra-specs match: ``<is>`` compares booleans, the other
    operators are :func:`controlplane.scheduler.extra_specs_ops.match`."""
    words = str(req).split()
    if words and words[0] == "<is>":
        if len(words) < 2:
            return False
        want = words[1].lower() in ("true", "1", "yes", "on")
        if isinstance(value, str):
            value = value.lower() in ("true", "1", "yes", "on")
        return bool(value) == want
    if isinstance(value, bool):
        value = str(value)   # "True"/"False" as Cinder compares them
    return extra_specs_ops.match(value, req)


def capabilities_satisfied(caps, extra_specs):
    """True when ``caps`` (a dict) satisfies every relevant extra spec."""
    for key, req in extra_specs.items():
        scope = key.split(":")
        if len(scope) > 1:
            if scope[0] != "capabilities":
                continue
            scope = scope[1:]
        cap = caps
        for part in scope:
            if not isinstance(cap, dict) or part not in cap:
                return False
            cap = cap[part]
        values = cap if isinstance(cap, list) else [cap]
        if not any(spec_matches(v, req) for v in values):
            return False
    return True


class CapabilitiesFilter(BaseFilter):
    """Cinder's CapabilitiesFilter: every extra spec of the volume type
    (plain or ``capabilities:`` scoped; ``<is>``, ``<in>``, ``s==``, ``>=``
    ... operators) must match the pool's reported capabilities."""
    static = True

    def mask(self, states, req):
        if not req.extra_specs:
            return None
        group_pass = np.array([capabilities_satisfied(c, req.extra_specs)
                               for c in states.cap_groups], dtype=bool)
        if states.n == 0:
            return np.zeros(0, dtype=bool)
        return group_pass[states.cap_codes]


FILTERS = {cls.__name__: cls for cls in (AvailabilityZoneFilter, CapacityFilter,
                                         CapabilitiesFilter)}


def load_filters(names):
    """Instances of the named filters; raises SchedulerConfigError."""
    from controlplane import exception
    out = []
    for name in names:
        cls = FILTERS.get(name.strip())
        if cls is None:
            raise exception.SchedulerConfigError(reason="unknown volume filter %r" % name)
        out.append(cls())
    return out


def run_filters(filters, states, req):
    """Indices of the pools passing every filter (static masks memoised on
    ``states``), after removing the retry list and, for clones, every pool
    but the source's.

    :raises NoValidBackend: with the name of the filter that removed the
        last candidates.
    """
    ok = np.ones(states.n, dtype=bool)
    if req.excluded:
        excluded = set(req.excluded)
        for i, (name, backend) in enumerate(zip(states.names, states.backends)):
            if name in excluded or backend in excluded:
                ok[i] = False
    if req.source_pool is not None:
        only = np.zeros(states.n, dtype=bool)
        i = states.index.get(req.source_pool)
        if i is not None:
            only[i] = True
        ok &= only
    if not ok.any():
        raise vexc.NoValidBackend(reason="No weighed backends available")
    for f in filters:
        if f.static:
            key = (f.name, req.availability_zone, req.specs_key())
            m = states.static_masks.get(key, False)
            if m is False:
                m = f.mask(states, req)
                states.static_masks[key] = m
        else:
            m = f.mask(states, req)
        if m is None:
            continue
        ok &= m
        if not ok.any():
            raise vexc.NoValidBackend(reason="Filter %s returned 0 backends" % f.name)
    return np.flatnonzero(ok)
