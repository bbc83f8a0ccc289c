"""Request schemas of os-quota-sets and os-quota-class-sets (Nova's
``nova/api/openstack/compute/schemas/quota_sets.py`` semantics): values
are integers (or integer strings) from -1 to 2**31-1; the keys allowed
depend on the microversion."""
import copy

from controlplane.quota import RESOURCES

NETWORK_KEYS = ("floating_ips", "fixed_ips", "security_groups", "security_group_rules")
INJECTED_KEYS = ("injected_files", "injected_file_content_bytes",
                 "injected_file_path_bytes")
# deprecated network quotas Nova still shows before 2.36 (fixed values)
NETWORK_DEFAULTS = {"floating_ips": 10, "fixed_ips": -1, "security_groups": 10,
                    "security_group_rules": 20}

quota_value = {
    "type": ["integer", "string"],
    "pattern": r"^-?[0-9]+$",
    "minimum": -1,
    "maximum": 0x7FFFFFFF,
}


def keys_for(version, quota_class=False):
    """Resource keys a quota (class) set shows/accepts at ``version``:
    network keys until 2.35 (quota classes: until 2.49), injected_file*
    until 2.56."""
    keys = list(RESOURCES)
    if version >= (2, 57):
        keys = [k for k in keys if k not in INJECTED_KEYS]
    network_until = (2, 50) if quota_class else (2, 36)
    if version < network_until:
        keys += list(NETWORK_KEYS)
    return keys


def update_schema(version, quota_class=False):
    """Body schema of PUT os-quota-sets/{id} or os-quota-class-sets/{id}."""
    props = {k: copy.deepcopy(quota_value) for k in keys_for(version, quota_class)}
    wrapper = "quota_class_set" if quota_class else "quota_set"
    if not quota_class:
        props["force"] = {"type": ["boolean", "string"],
                          "enum": [True, False, "True", "False", "true", "false",
                                   "1", "0", "yes", "no"]}
    return {
        "type": "object",
        "properties": {wrapper: {"type": "object", "properties": props,
                                 "additionalProperties": False}},
        "required": [wrapper],
        "additionalProperties": False,
    }
