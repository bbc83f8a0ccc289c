"""ImagePropertiesFilter (Nova): the host can run the image.

Image properties ``hw_architecture`` (or ``architecture``), ``img_hv_type``
(or ``hypervisor_type``) and ``hw_vm_mode`` (or ``vm_mode``) must together
appear in one ``[arch, hv_type, vm_mode]`` entry of the host's
``supported_instances`` (case-insensitive; an unset property matches
anything). A host that advertises no supported_instances is judged on its
``hypervisor_type`` alone (and fails if arch or vm_mode is requested).
``img_hv_requested_version`` (or ``hypervisor_version_requires``), e.g.
``">=6.0,<7"``, is checked against the host's hypervisor_version (an int
encoded as Nova does: 6000001 = 6.0.1). Nova checks the version only when
one of the three properties above is set; so do we.

Also, as this project's addition: the image's ``min_ram`` (MiB) and
``min_disk`` (GiB) must fit the host's ``free_ram_mb`` / ``free_disk_mb``.
"""
import re

from controlplane.scheduler.filters.base import BaseHostFilter, broadcast

_PROP_ALIASES = {
    "arch": ("hw_architecture", "architecture"),
    "hv_type": ("img_hv_type", "hypervisor_type"),
    "vm_mode": ("hw_vm_mode", "vm_mode"),
    "version": ("img_hv_requested_version", "hypervisor_version_requires"),
}
_PRED = re.compile(r"^\s*(<=|>=|==|!=|<|>|=)?\s*([0-9][0-9.]*)\s*$")


def image_requirements(props):
    """``{"arch","hv_type","vm_mode","version"}`` from image properties (lowercased, or None)."""
    out = {}
    for name, keys in _PROP_ALIASES.items():
        val = next((props[k] for k in keys if props.get(k)), None)
        out[name] = str(val).strip().lower() if val is not None and name != "version" else val
    return out


def version_tuple(text):
    return tuple(int(p) for p in str(text).split(".") if p != "")


def int_to_version(number):
    """Nova's convert_version_to_str: 6000001 -> (6, 0, 1)."""
    number = int(number or 0)
    parts = []
    while True:
        number, rest = divmod(number, 1000)
        parts.insert(0, rest)
        if number == 0:
            break
    return tuple(parts)


def version_satisfies(host_version, predicate):
    """True when ``host_version`` (int) satisfies ``predicate`` (">=6.0,<7")."""
    have = int_to_version(host_version)
    for clause in str(predicate).split(","):
        if not clause.strip():
            continue
        m = _PRED.match(clause)
        if not m:
            return False
        op, want = m.group(1) or "==", version_tuple(m.group(2))
        width = max(len(have), len(want))
        a = have + (0,) * (width - len(have))
        b = want + (0,) * (width - len(want))
        ok = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
              "==": a == b, "=": a == b, "!=": a != b}[op]
        if not ok:
            return False
    return True


def group_supports(group, want):
    """True when a CapabilityGroup can run an image with requirements ``want``."""
    if not (want["arch"] or want["hv_type"] or want["vm_mode"]):
        return True
    supported = group.supported_instances or []
    if not supported:
        if want["arch"] or want["vm_mode"]:
            return False
        candidates = [(None, (group.hypervisor_type or "").lower(), None)]
    else:
        candidates = [tuple((str(x).lower() if x is not None else None)
                            for x in (list(s) + [None, None, None])[:3]) for s in supported]
    for arch, hv_type, vm_mode in candidates:
        if want["arch"] and want["arch"] != arch:
            continue
        if want["hv_type"] and want["hv_type"] != hv_type:
            continue
        if want["vm_mode"] and want["vm_mode"] != vm_mode:
            continue
        if want["version"] and group.hypervisor_version and \
                not version_satisfies(group.hypervisor_version, want["version"]):
            continue
        return True
    return False


class ImagePropertiesFilter(BaseHostFilter):
    """Pass hosts that support the image's architecture/hypervisor/vm_mode and
    have the image's min_ram/min_disk free."""

    def filter_mask(self, states, req):
        mask = None
        if req.image_props:
            want = image_requirements(req.image_props)
            if want["arch"] or want["hv_type"] or want["vm_mode"]:
                key = ("ImagePropertiesFilter", states)
                mask = req.cache.get(key)
                if mask is None:
                    mask = broadcast([group_supports(g, want) for g in states.cap_groups],
                                     states.cap_code)
                    req.cache[key] = mask
        if req.image_min_ram:
            m = states.free_ram_mb >= req.image_min_ram
            mask = m if mask is None else mask & m
        if req.image_min_disk:
            m = states.free_disk_mb >= req.image_min_disk * 1024
            mask = m if mask is None else mask & m
        return mask
