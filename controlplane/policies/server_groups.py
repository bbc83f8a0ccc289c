"""Policies of /os-server-groups (Nova's os-server-groups), project scoped."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-server-groups:%s"


def _r(name, check, desc, method, path):
    return policy.DocumentedRuleDefault(P % name, check, desc,
                                        [{"method": method, "path": path}])


rules = [
    _r("create", base.PROJECT_MEMBER_OR_ADMIN, "Create a server group", "POST",
       "/os-server-groups"),
    _r("delete", base.PROJECT_MEMBER_OR_ADMIN, "Delete a server group", "DELETE",
       "/os-server-groups/{server_group_id}"),
    _r("index", base.PROJECT_READER_OR_ADMIN, "List the project's server groups", "GET",
       "/os-server-groups"),
    _r("index:all_projects", base.ADMIN, "List server groups of every project", "GET",
       "/os-server-groups?all_projects=True"),
    _r("show", base.PROJECT_READER_OR_ADMIN, "Show a server group", "GET",
       "/os-server-groups/{server_group_id}"),
]
