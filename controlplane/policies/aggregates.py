"""Policies of /os-aggregates (Nova's os-aggregates): admin only."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-aggregates:%s"


def _r(name, desc, method, path):
    return policy.DocumentedRuleDefault(P % name, base.ADMIN, desc,
                                        [{"method": method, "path": path}])


rules = [
    _r("index", "List aggregates", "GET", "/os-aggregates"),
    _r("create", "Create an aggregate", "POST", "/os-aggregates"),
    _r("show", "Show an aggregate", "GET", "/os-aggregates/{aggregate_id}"),
    _r("update", "Rename an aggregate or change its zone", "PUT",
       "/os-aggregates/{aggregate_id}"),
    _r("delete", "Delete an aggregate", "DELETE", "/os-aggregates/{aggregate_id}"),
    _r("add_host", "Add a host to an aggregate", "POST",
       "/os-aggregates/{aggregate_id}/action (add_host)"),
    _r("remove_host", "Remove a host from an aggregate", "POST",
       "/os-aggregates/{aggregate_id}/action (remove_host)"),
    _r("set_metadata", "Set aggregate metadata", "POST",
       "/os-aggregates/{aggregate_id}/action (set_metadata)"),
]
