"""Cinder's capacity formulas, scalar and vectorised.

Sources (documented behaviour): Cinder's "Capacity filter" and
"Over subscription in thin provisioning" admin guides and
``cinder.utils.calculate_virtual_free_capacity``:

* reserved space ``= floor(total * reserved_percentage / 100)``;
* usable free ``= free - reserved``;
* a request is **thin** unless its volume type has
  ``provisioning:type=thick``; it is placed thin only on a pool with
  ``thin_provisioning_support``;
* thin: ``max_over_subscription_ratio`` must be >= 1, the projected
  ``(provisioned + size) / total`` must not exceed it, and the "adjusted
  free virtual capacity" ``usable free * ratio`` must be >= size;
* thick: ``usable free >= size``; ``total <= 0`` never passes;
* virtual free capacity (CapacityWeigher): thin ``total * ratio -
  provisioned - reserved``, thick ``free - reserved``.

The claim in :func:`controlplane.db.volume_pools.capacity_condition` is the
same rule in SQL.
"""
import math

import numpy as np

THICK = "thick"


def request_is_thin(extra_specs):
    """False when the volume type asks for ``provisioning:type=thick``."""
    return str((extra_specs or {}).get("provisioning:type", "")).strip().lower() != THICK


def fits(size, total, free, provisioned, thin_support, ratio, reserved_pct, thin=True):
    """Scalar CapacityFilter: True when ``size`` GiB fits on the pool."""
    if total <= 0:
        return False
    reserved = math.floor(total * reserved_pct / 100.0)
    usable = free - reserved
    if thin and thin_support:
        if ratio < 1:
            return False
        if (provisioned + size) / total > ratio:
            return False
        return usable * ratio >= size
    return usable >= size


def virtual_free(total, free, provisioned, thin_support, ratio, reserved_pct, thin=True):
    """Scalar ``calculate_virtual_free_capacity`` (GiB)."""
    reserved = math.floor(total * reserved_pct / 100.0)
    if thin and thin_support:
        return total * ratio - provisioned - reserved
    return free - reserved


def fits_mask(size, total, free, provisioned, thin_support, ratio, reserved_pct, thin=True):
    """:func:`fits` over numpy arrays (one element per pool) → bool array."""
    reserved = np.floor(total * reserved_pct / 100.0)
    usable = free - reserved
    thick_ok = usable >= size
    pos = total > 0
    if not thin:
        return pos & thick_ok
    with np.errstate(divide="ignore", invalid="ignore"):
        thin_ok = ((ratio >= 1.0) & ((provisioned + size) <= total * ratio)
                   & (usable * ratio >= size))
    return pos & np.where(thin_support, thin_ok, thick_ok)


def virtual_free_array(total, free, provisioned, thin_support, ratio, reserved_pct, thin=True):
    """:func:`virtual_free` over numpy arrays."""
    reserved = np.floor(total * reserved_pct / 100.0)
    thick = free - reserved
    if not thin:
        return thick
    return np.where(thin_support, total * ratio - provisioned - reserved, thick)
