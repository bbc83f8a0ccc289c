#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
"""Ansible module: cluster properties / resource defaults set to declared values."""

from __future__ import annotations

DOCUMENTATION = r"""
module: pacemaker_nvpairs
short_description: Set Pacemaker cluster options (crm_config, rsc_defaults, op_defaults)
description:
  - For each name in I(values), reads the effective value with
    C(crm_attribute --query) and sets it with C(crm_attribute --update)
    only when it differs, so a second run reports no change.
  - Names not listed are left alone (Pacemaker keeps its own entries such
    as dc-version in cib-bootstrap-options).
  - Runs on one cluster node (the CIB is replicated).
options:
  section:
    description: CIB section (crm_attribute --type).
    type: str
    choices: [crm_config, rsc_defaults, op_defaults]
    required: true
  set_name:
    description: >-
      id of the nvpair set new values are written to. Default
      cib-bootstrap-options for crm_config (where pcs and crm_attribute
      write too), build-resource-defaults otherwise.
    type: str
  values:
    description: name -> value (strings; booleans as true/false).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Cluster properties
  pacemaker_nvpairs:
    section: crm_config
    values: {no-quorum-policy: stop, stonith-enabled: "false"}
  run_once: true
"""

RETURN = r"""
updated:
  description: name -> [old value or null, new value] of what was changed.
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

# crm_attribute --query for a name that is not set: ENXIO (105).
NOT_SET_RC = 105


def current_value(module, section, name):
    """Effective value of ``name`` in ``section``, or None when not set."""
    rc, out, err = module.run_command(
        ["crm_attribute", "--type", section, "--name", name, "--query", "--quiet"])
    if rc == NOT_SET_RC or (rc != 0 and "No such device" in err):
        return None
    if rc != 0:
        module.fail_json(msg="crm_attribute --query %s/%s failed (rc=%d): %s"
                         % (section, name, rc, err.strip()))
    return out.strip()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            section=dict(type="str", required=True,
                         choices=["crm_config", "rsc_defaults", "op_defaults"]),
            set_name=dict(type="str"),
            values=dict(type="dict", required=True),
        ),
        supports_check_mode=True,
    )
    section = module.params["section"]
    set_name = module.params["set_name"] or (
        "cib-bootstrap-options" if section == "crm_config" else "build-resource-defaults")
    updated = {}
    for name, value in sorted(module.params["values"].items()):
        want = str(value).lower() if isinstance(value, bool) else str(value)
        have = current_value(module, section, name)
        if have == want:
            continue
        updated[name] = [have, want]
        if module.check_mode:
            continue
        rc, _out, err = module.run_command(
            ["crm_attribute", "--type", section, "--set-name", set_name,
             "--name", name, "--update", want])
        if rc != 0:
            module.fail_json(msg="crm_attribute --update %s/%s=%s failed (rc=%d): %s"
                             % (section, name, want, rc, err.strip()))
    module.exit_json(changed=bool(updated), updated=updated)


if __name__ == "__main__":
    main()
