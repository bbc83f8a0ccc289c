#!/usr/bin/python3
# Apache-2.0
"""Pacemaker cluster state as one JSON document (read-only).

Run on a cluster node (playbooks/cluster-status.yml, playbooks/maintenance.yml
copy it there with ansible.builtin.script). Reads
``crm_mon --one-shot --inactive --fence-history=1 --output-as=xml`` and prints::

    {"dc": "ctl1", "quorum": true,
     "nodes": {"ctl1": {"online": true, "standby": false, "maintenance": false,
                        "unclean": false, "pending": false,
                        "resources_running": 7}, ...},
     "resources": [{"id": "vip", "parent": null, "agent": "ocf:heartbeat:IPaddr2",
                    "role": "Started", "active": true, "failed": false,
                    "blocked": false, "managed": true, "nodes": ["ctl2"]}, ...],
     "failures": [{"node": "ctl1", "op_key": "vip_monitor_5000",
                   "exitreason": "...", "exitstatus": "not running",
                   "last_rc_change": "..."}, ...],
     "fencing": [{"target": "ctl2", "action": "off", "status": "success",
                  "delegate": "ctl3", "completed": "..."}, ...],
     "problems": ["node ctl3 offline", "resource galera failed on ctl1", ...]}

``problems`` lists what makes the cluster unhealthy: nodes not online,
unclean or pending, no quorum, failed/blocked/unmanaged resources, failed
actions, and resource instances Stopped while a node out of standby could
run them. Exit status 0 whatever the state; 1 when crm_mon cannot be read.
Pacemaker Explained, "crm_mon": https://clusterlabs.org/pacemaker/doc/
"""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

TRUE = "true"


def crm_mon():
    """Root element of crm_mon's XML output (exits 1 if crm_mon fails)."""
    proc = subprocess.run(["crm_mon", "--one-shot", "--inactive", "--fence-history=1",
                           "--output-as=xml"], capture_output=True, text=True, check=False)
    try:
        root = ET.fromstring(proc.stdout)
    except ET.ParseError:
        root = None
    status = root.find("status") if root is not None else None
    if root is None or (status is not None and status.get("code") != "0"):
        sys.stderr.write("crm_mon failed (rc=%d): %s%s\n" % (proc.returncode, proc.stdout, proc.stderr))
        sys.exit(1)
    return root


def resources(section):
    """Flat list of primitives under <resources> (clone/group members too)."""
    found = []

    def walk(elem, parent):
        for child in elem:
            if child.tag == "resource":
                found.append({
                    "id": child.get("id"),
                    "parent": parent,
                    "agent": child.get("resource_agent"),
                    "role": child.get("role"),
                    "active": child.get("active") == TRUE,
                    "failed": child.get("failed") == TRUE,
                    "blocked": child.get("blocked") == TRUE,
                    "managed": child.get("managed") != "false",
                    "nodes": [n.get("name") for n in child.findall("node")],
                })
            elif child.tag in ("clone", "group", "bundle"):
                walk(child, child.get("id"))
    if section is not None:
        walk(section, None)
    return found


def summarize(root):
    """The JSON document described in the module docstring."""
    summary = root.find("summary")
    dc = summary.find("current_dc") if summary is not None else None
    nodes = {}
    section = root.find("nodes")
    for node in (section if section is not None else []):
        if node.get("type", "member") != "member":
            continue
        nodes[node.get("name")] = {
            "online": node.get("online") == TRUE,
            "standby": node.get("standby") == TRUE or node.get("standby_onfail") == TRUE,
            "maintenance": node.get("maintenance") == TRUE,
            "unclean": node.get("unclean") == TRUE,
            "pending": node.get("pending") == TRUE,
            "resources_running": int(node.get("resources_running", "0")),
        }
    rscs = resources(root.find("resources"))
    failures = [{"node": f.get("node"), "op_key": f.get("op_key"),
                 "exitstatus": f.get("exitstatus"), "exitreason": f.get("exitreason", ""),
                 "last_rc_change": f.get("last-rc-change")}
                for f in root.iter("failure")]
    fencing = [{"target": e.get("target"), "action": e.get("action"), "status": e.get("status"),
                "delegate": e.get("delegate"), "completed": e.get("completed")}
               for e in root.iter("fence_event")]
    result = {
        "dc": dc.get("name") if dc is not None and dc.get("present") == TRUE else None,
        "quorum": dc is not None and dc.get("with_quorum") == TRUE,
        "nodes": nodes, "resources": rscs, "failures": failures, "fencing": fencing,
    }
    result["problems"] = problems(result)
    return result


def problems(state):
    """Human-readable list of what is not healthy in ``state``."""
    found = []
    if not state["quorum"]:
        found.append("partition without quorum")
    for name, node in sorted(state["nodes"].items()):
        for flag in ("unclean", "pending"):
            if node[flag]:
                found.append("node %s %s" % (name, flag))
        if not node["online"]:
            found.append("node %s offline" % name)
    serving = [n for n, node in state["nodes"].items()
               if node["online"] and not node["standby"] and not node["maintenance"]]
    running = {}
    for rsc in state["resources"]:
        where = ",".join(rsc["nodes"]) or "-"
        if rsc["failed"]:
            found.append("resource %s failed on %s" % (rsc["id"], where))
        if rsc["blocked"]:
            found.append("resource %s blocked" % rsc["id"])
        if not rsc["managed"]:
            found.append("resource %s unmanaged" % rsc["id"])
        if rsc["role"] in ("Starting", "Stopping", "Promoting", "Demoting", "Migrating"):
            found.append("resource %s %s on %s" % (rsc["id"], rsc["role"].lower(), where))
        key = (rsc["parent"], rsc["id"])
        running.setdefault(key, {"stopped": 0, "nodes": set()})
        if rsc["role"] == "Stopped" and not rsc["active"]:
            running[key]["stopped"] += 1
        running[key]["nodes"].update(rsc["nodes"])
    # A clone instance Stopped while some serving node runs none of them.
    for (parent, rid), info in sorted(running.items(), key=lambda kv: str(kv[0])):
        if parent and info["stopped"] and set(serving) - info["nodes"]:
            found.append("clone %s: %d instance(s) stopped, not running on %s"
                         % (parent, info["stopped"], ",".join(sorted(set(serving) - info["nodes"]))))
    for failure in state["failures"]:
        found.append("failed action %s on %s: %s %s" % (failure["op_key"], failure["node"],
                                                        failure["exitstatus"], failure["exitreason"]))
    return found


def main():
    json.dump(summarize(crm_mon()), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
