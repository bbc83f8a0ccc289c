"""Response bodies of /flavors (Nova's flavors view builder).

Before 2.75, a swap of 0 is shown as ``""`` (tempest's schema allows both);
``description`` appears from 2.55.
"""
from controlplane.api import common


def basic(flavor, version):
    """``{"id", "name", "links"}`` (+ ``description`` from 2.55)."""
    out = {"id": flavor["flavorid"], "name": flavor["name"],
           "links": common.link("flavors", flavor["flavorid"])}
    if version >= (2, 55):
        out["description"] = flavor.get("description")
    return out


def detail(flavor, version):
    """Every field of a flavor as ``GET /flavors/{id}`` shows it."""
    out = {
        "id": flavor["flavorid"],
        "name": flavor["name"],
        "ram": flavor["memory_mb"],
        "disk": flavor["root_gb"],
        "vcpus": flavor["vcpus"],
        "swap": flavor["swap"] or "",
        "OS-FLV-EXT-DATA:ephemeral": flavor["ephemeral_gb"],
        "OS-FLV-DISABLED:disabled": flavor["disabled"],
        "os-flavor-access:is_public": flavor["is_public"],
        "rxtx_factor": flavor["rxtx_factor"],
        "links": common.link("flavors", flavor["flavorid"]),
    }
    if version >= (2, 55):
        out["description"] = flavor.get("description")
    return out
