"""Policies of /os-keypairs (Nova's os-keypairs): a user manages their own
key pairs; an admin may act on another user's (``user_id``, 2.10)."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-keypairs:%s"
ADMIN_OR_OWNER = "(%s) or user_id:%%(user_id)s" % base.ADMIN


def _r(name, desc, method, path):
    return policy.DocumentedRuleDefault(P % name, ADMIN_OR_OWNER, desc,
                                        [{"method": method, "path": path}])


rules = [
    _r("index", "List key pairs", "GET", "/os-keypairs"),
    _r("create", "Create or import a key pair", "POST", "/os-keypairs"),
    _r("show", "Show a key pair", "GET", "/os-keypairs/{keypair_name}"),
    _r("delete", "Delete a key pair", "DELETE", "/os-keypairs/{keypair_name}"),
]
