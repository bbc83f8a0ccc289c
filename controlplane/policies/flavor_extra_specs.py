"""Policies of /flavors/{id}/os-extra_specs (Nova's os-flavor-extra-specs):
project readers may read extra specs, only admins write them."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-flavor-extra-specs:%s"
_PATH = "/flavors/{flavor_id}/os-extra_specs"


def _r(name, check, desc, method, path):
    return policy.DocumentedRuleDefault(P % name, check, desc,
                                        [{"method": method, "path": path}])


rules = [
    _r("index", base.PROJECT_READER_OR_ADMIN, "List a flavor's extra specs", "GET", _PATH),
    _r("show", base.PROJECT_READER_OR_ADMIN, "Show one extra spec", "GET",
       _PATH + "/{flavor_extra_spec_key}"),
    _r("create", base.ADMIN, "Create or update extra specs", "POST", _PATH),
    _r("update", base.ADMIN, "Update one extra spec", "PUT",
       _PATH + "/{flavor_extra_spec_key}"),
    _r("delete", base.ADMIN, "Delete one extra spec", "DELETE",
       _PATH + "/{flavor_extra_spec_key}"),
]
