#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0
"""Ansible module: read-only summary of crm_mon's view of the cluster."""

from __future__ import annotations

DOCUMENTATION = r"""
module: pacemaker_status
short_description: Nodes, quorum and resource locations from crm_mon
description:
  - Runs C(crm_mon --one-shot --output-as=xml) and returns a summary.
    Never changes anything. Fails only when crm_mon cannot run at all;
    a node whose pacemaker is still starting reports C(running=false).
options: {}
"""

EXAMPLES = r"""
- name: Wait for every node online with quorum
  pacemaker_status:
  register: st
  until: st.quorum and st.online | length == 3
  retries: 60
  delay: 2
"""

RETURN = r"""
running:
  description: crm_mon answered (the local pacemaker is up and has a DC).
  type: bool
quorum:
  description: The local partition has quorum.
  type: bool
dc:
  description: Name of the designated controller, or null.
  type: str
nodes:
  description: name -> {online, standby, unclean} (booleans).
  type: dict
online:
  description: Names of the online nodes, sorted.
  type: list
resources:
  description: resource id -> list of nodes where it is active.
  type: dict
"""

import xml.etree.ElementTree as ET

from ansible.module_utils.basic import AnsibleModule


def summarize(root):
    """The summary dict (see RETURN) of crm_mon's XML document ``root``."""
    dc = root.find("./summary/current_dc")
    nodes = {}
    for node in root.findall("./nodes/node"):
        nodes[node.get("name")] = {
            key: node.get(key) == "true" for key in ("online", "standby", "unclean")}
    resources = {}
    for rsc in root.iter("resource"):
        where = [n.get("name") for n in rsc.findall("node")]
        if rsc.get("active") == "true":
            resources.setdefault(rsc.get("id"), []).extend(where)
    return dict(
        running=dc is not None and dc.get("present") == "true",
        quorum=dc is not None and dc.get("with_quorum") == "true",
        dc=dc.get("name") if dc is not None and dc.get("present") == "true" else None,
        nodes=nodes,
        online=sorted(name for name, n in nodes.items() if n["online"]),
        resources=resources,
    )


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    rc, out, err = module.run_command(["crm_mon", "--one-shot", "--output-as=xml"])
    if not out.strip():
        module.exit_json(changed=False, running=False, quorum=False, dc=None,
                         nodes={}, online=[], resources={}, rc=rc, stderr=err)
    try:
        root = ET.fromstring(out)
    except ET.ParseError as exc:
        module.fail_json(msg="crm_mon printed no valid XML: %s" % exc, stdout=out, stderr=err)
    module.exit_json(changed=False, rc=rc, **summarize(root))


if __name__ == "__main__":
    main()
