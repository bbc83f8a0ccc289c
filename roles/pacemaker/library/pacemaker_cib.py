#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
"""Ansible module: one top-level CIB element in its desired state."""

from __future__ import annotations

DOCUMENTATION = r"""
module: pacemaker_cib
short_description: Keep one top-level element of the Pacemaker CIB in a declared state
description:
  - Reads the CIB section I(scope) with C(cibadmin --query), looks for the
    element whose id is I(id) among the section's direct children and
    compares it with I(xml) (tag, attributes and children, whitespace and
    attribute order ignored).
  - Absent element is created (C(cibadmin --create)), a different one is
    replaced as a whole (C(cibadmin --replace)), an equal one is left
    alone, so a second run reports no change.
  - Anything another tool added inside the element (for instance a
    target-role meta attribute from C(crm_resource --ban) or a manual edit)
    is overwritten: the declaration wins. Constraints created by
    C(crm_resource --move/--ban) have their own ids and are not touched.
  - Runs on one cluster node (the CIB is replicated).
options:
  id:
    description: id of the element (the root of I(xml)).
    type: str
    required: true
  scope:
    description: CIB section holding the element.
    type: str
    choices: [resources, constraints, rsc_defaults, op_defaults, crm_config, fencing-topology]
    required: true
  xml:
    description: The element, as XML text. Required when I(state=present).
    type: str
  state:
    description: present or absent.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The VIP
  pacemaker_cib:
    id: vip
    scope: resources
    xml: "{{ lookup('ansible.builtin.template', 'cib/vip.xml.j2') }}"
  run_once: true
"""

RETURN = r"""
action:
  description: created, replaced, deleted or none.
  type: str
  returned: always
before:
  description: The element found in the CIB (XML), empty when absent.
  type: str
  returned: always
"""

import xml.etree.ElementTree as ET

from ansible.module_utils.basic import AnsibleModule


def canonical(elem):
    """Comparable form of an element: (tag, sorted attributes, children).

    Text and tail whitespace is ignored (the CIB stores no text content);
    children keep their order (Pacemaker evaluates sets and ops in order).
    """
    return (elem.tag, tuple(sorted(elem.attrib.items())),
            tuple(canonical(child) for child in elem))


def find_child(section, elem_id):
    """Direct child of ``section`` whose id is ``elem_id``, or None."""
    for child in section:
        if child.get("id") == elem_id:
            return child
    return None


def query_section(module, scope):
    """The CIB section ``scope`` as an Element (an empty one if missing)."""
    rc, out, err = module.run_command(["cibadmin", "--query", "--scope", scope])
    if rc == 105 or (rc != 0 and "No such device" in err):
        return ET.Element(scope)
    if rc != 0:
        module.fail_json(msg="cibadmin --query --scope %s failed (rc=%d): %s" % (scope, rc, err.strip()))
    return ET.fromstring(out)


def run_cibadmin(module, action, scope, text):
    """Apply ``text`` with ``cibadmin --<action> --scope <scope>``."""
    rc, _out, err = module.run_command(
        ["cibadmin", "--" + action, "--scope", scope, "--xml-text", text])
    if rc != 0:
        module.fail_json(msg="cibadmin --%s --scope %s failed (rc=%d): %s"
                         % (action, scope, rc, err.strip()), xml=text)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            id=dict(type="str", required=True),
            scope=dict(type="str", required=True,
                       choices=["resources", "constraints", "rsc_defaults",
                                "op_defaults", "crm_config", "fencing-topology"]),
            xml=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[("state", "present", ["xml"])],
        supports_check_mode=True,
    )
    elem_id = module.params["id"]
    scope = module.params["scope"]
    state = module.params["state"]

    desired = None
    if state == "present":
        try:
            desired = ET.fromstring(module.params["xml"].strip())
        except ET.ParseError as exc:
            module.fail_json(msg="xml is not well-formed: %s" % exc)
        if desired.get("id") != elem_id:
            module.fail_json(msg="the root element of xml has id %r, expected %r"
                             % (desired.get("id"), elem_id))

    current = find_child(query_section(module, scope), elem_id)
    before = ET.tostring(current, encoding="unicode") if current is not None else ""
    result = dict(changed=False, action="none", before=before)

    if state == "absent":
        if current is not None:
            result.update(changed=True, action="deleted")
            if not module.check_mode:
                stub = ET.Element(current.tag, {"id": elem_id})
                run_cibadmin(module, "delete", scope, ET.tostring(stub, encoding="unicode"))
        module.exit_json(**result)

    text = ET.tostring(desired, encoding="unicode")
    if current is None:
        result.update(changed=True, action="created")
        if not module.check_mode:
            run_cibadmin(module, "create", scope, text)
    elif canonical(current) != canonical(desired):
        result.update(changed=True, action="replaced")
        if not module.check_mode:
            run_cibadmin(module, "replace", scope, text)
    if result["changed"]:
        result["diff"] = dict(before=before + "\n", after=text + "\n")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
