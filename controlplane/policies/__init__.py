"""Default policy rules in code (oslo.policy), overridable by a policy file.

:func:`list_rules` concatenates the ``rules`` lists of the modules named in
:data:`POLICY_MODULES` (one per API resource, like the blueprints);
:func:`get_enforcer` returns the process-wide ``oslo_policy.policy.Enforcer``
reading ``[oslo_policy] policy_file`` on top of those defaults. Rule names
follow Nova's (``os_compute_api:servers:create`` ...).
"""
import logging
import threading

from oslo_policy import policy as oslo_policy

from controlplane.importutils import import_optional

LOG = logging.getLogger(__name__)

POLICY_MODULES = ["base", "servers", "quota", "limits", "flavors",
                  "flavor_extra_specs", "flavor_access", "aggregates",
                  "availability_zones", "services", "hypervisors", "keypairs",
                  "server_groups", "volume_attachments", "volume_volumes",
                  "volume_types", "volume_snapshots", "volume_quotas", "volume_services"]

_enforcer = None
_lock = threading.Lock()


def list_rules():
    """Every default rule (``RuleDefault``/``DocumentedRuleDefault``).

    A resource module that has not been written yet is skipped with a
    warning, so the API can start with a subset of resources.
    """
    rules = []
    for name in POLICY_MODULES:
        modname = "controlplane.policies." + name
        mod = import_optional(modname)
        if mod is None:
            LOG.debug("policy module %s not present; skipped", modname)
            continue
        rules.extend(mod.rules)
    return rules


def get_enforcer(conf=None):
    """The process-wide Enforcer (created on first use with ``conf``)."""
    global _enforcer
    with _lock:
        if _enforcer is None:
            if conf is None:
                from controlplane.conf import CONF as conf
            enforcer = oslo_policy.Enforcer(conf)
            enforcer.register_defaults(list_rules())
            _enforcer = enforcer
        return _enforcer


def reset():
    """Forget the enforcer (tests; after a policy-file change)."""
    global _enforcer
    with _lock:
        if _enforcer is not None:
            _enforcer.clear()
        _enforcer = None


def authorize(ctxt, rule, target):
    """Check ``rule`` for the context against ``target``.

    :param ctxt: :class:`controlplane.context.RequestContext`.
    :param target: dict such as ``{"project_id": ..., "user_id": ...}``.
    :returns: True if allowed, False otherwise (never raises for a denial).
    :raises oslo_policy.policy.PolicyNotRegistered: unknown rule name.
    """
    creds = {"roles": [r.lower() for r in ctxt.roles], "project_id": ctxt.project_id,
             "user_id": ctxt.user_id, "is_admin": ctxt.is_admin}
    return get_enforcer().authorize(rule, target, creds, do_raise=False)
