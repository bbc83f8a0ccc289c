"""Volume scheduler weighers (Cinder's), vectorised.

Raw weights are min-max normalised over the candidates, multiplied and
summed (Cinder's and Nova's weigher base); the highest total wins.

* **CapacityWeigher** — virtual free capacity
  (``calculate_virtual_free_capacity``: thin ``total * ratio -
  provisioned - reserved``, thick ``free - reserved``), multiplier
  ``capacity_weight_multiplier`` (1.0: spread; negative: stack).
* **AllocatedCapacityWeigher** — ``allocated_capacity_gb``, multiplier
  ``allocated_capacity_weight_multiplier`` (-1.0: least allocated first).
* **ChanceWeigher** — a random number per pool (multiplier 1.0).
"""
import numpy as np

from controlplane.conf import CONF
from controlplane.scheduler.weighers.base import normalize
from controlplane.volume.scheduler import capacity

_rng = np.random.default_rng()


class BaseWeigher:
    """A volume weigher: ``raw(states, idx, req)`` gives one float per
    candidate pool (``idx``: indexes into the pool states), ``weigh``
    normalises it to 0..1 and scales it by ``multiplier()`` (0 or None
    disables the weigher), as Cinder's weight handler does."""

    @property
    def name(self):
        return type(self).__name__

    def multiplier(self):
        return 1.0

    def raw(self, states, idx, req):
        raise NotImplementedError

    def weigh(self, states, idx, req):
        mult = self.multiplier()
        if not mult:
            return None
        return mult * normalize(self.raw(states, idx, req))


class CapacityWeigher(BaseWeigher):
    """Cinder's CapacityWeigher: more virtual free capacity (GiB; thin pools
    over-subscribed by ``max_over_subscription_ratio``) weighs more with a
    positive ``capacity_weight_multiplier`` (spreading)."""

    def multiplier(self):
        return CONF.volume_scheduler.capacity_weight_multiplier

    def raw(self, states, idx, req):
        return capacity.virtual_free_array(
            states.total_capacity_gb[idx], states.free_capacity_gb[idx],
            states.provisioned_capacity_gb[idx], states.thin_support[idx],
            states.max_over_subscription_ratio[idx], states.reserved_percentage[idx],
            req.thin)


class AllocatedCapacityWeigher(BaseWeigher):
    """Cinder's AllocatedCapacityWeigher: allocated GiB; its default
    multiplier is negative, so the least allocated pool wins."""

    def multiplier(self):
        return CONF.volume_scheduler.allocated_capacity_weight_multiplier

    def raw(self, states, idx, req):
        return states.allocated_capacity_gb[idx]


class ChanceWeigher(BaseWeigher):
    """Cinder's ChanceWeigher: a random weight per pool."""

    def raw(self, states, idx, req):
        return _rng.random(len(idx))


WEIGHERS = {cls.__name__: cls for cls in (CapacityWeigher, AllocatedCapacityWeigher,
                                          ChanceWeigher)}


def load_weighers(names):
    """Instances of the named weighers; raises SchedulerConfigError."""
    from controlplane import exception
    out = []
    for name in names:
        cls = WEIGHERS.get(name.strip())
        if cls is None:
            raise exception.SchedulerConfigError(reason="unknown volume weigher %r" % name)
        out.append(cls())
    return out


def order(weighers, states, idx, req):
    """``idx`` sorted best first (stable on ties: lower index first)."""
    if len(idx) <= 1 or not weighers:
        return idx
    total = np.zeros(len(idx), dtype=np.float64)
    for w in weighers:
        got = w.weigh(states, idx, req)
        if got is not None:
            total += got
    return idx[np.argsort(-total, kind="stable")]
