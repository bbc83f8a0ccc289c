"""Helpers of the Pacemaker lab tests: commands in the lab containers
(podman exec), crm_mon/CIB as XML, Galera state, HTTP through the VIP and
a stopwatch that waits for a condition."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

CONTROLLERS = ("ctl1", "ctl2", "ctl3")
COMPUTES = ("cmp1", "cmp2")
ADDRESSES = {"ctl1": "10.77.0.11", "ctl2": "10.77.0.12", "ctl3": "10.77.0.13"}
VIP = os.environ.get("CONTROLPLANE_LAB_VIP", "10.77.0.10")
CLOUDS = os.environ.get("CONTROLPLANE_LAB_CLOUDS", "/var/lib/controlplane-lab/clouds.yaml")
# Measured times of the drills, one JSON object per line (never asserted).
TIMES_FILE = os.environ.get("CONTROLPLANE_LAB_RECOVERY_TIMES",
                            "/var/lib/controlplane-lab/pacemaker-recovery.jsonl")


def sh(node, command, timeout=120):
    """(rc, stdout+stderr) of a shell command in a lab container."""
    proc = subprocess.run(["podman", "exec", node, "bash", "-c", command],
                          capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _first_up_controller():
    for node in CONTROLLERS:
        rc, _ = sh(node, "crm_mon -1 >/dev/null 2>&1", timeout=30)
        if rc == 0:
            return node
    return CONTROLLERS[0]


def crm_status(node=None):
    """{resource clone id: {node: role}} of the active instances
    (role: Started, Promoted or Unpromoted); failed ones are left out."""
    node = node or _first_up_controller()
    rc, out = sh(node, "crm_mon -1 --output-as=xml 2>/dev/null", timeout=30)
    if rc != 0:
        return {}
    root = ET.fromstring(out)
    status = {}
    for clone in root.iter("clone"):
        nodes = status.setdefault(clone.get("id"), {})
        for res in clone.iter("resource"):
            if res.get("active") == "true" and res.get("failed") == "false":
                for where in res.iter("node"):
                    nodes[where.get("name")] = res.get("role")
    for res in root.findall("./resources/resource"):
        status[res.get("id")] = {n.get("name"): res.get("role") for n in res.iter("node")
                                 if res.get("active") == "true"}
    return status


def cib_section(scope, node=None):
    rc, out = sh(node or _first_up_controller(), "cibadmin --query --scope %s" % scope)
    assert rc == 0, out
    return ET.fromstring(out)


def cib_element(scope, elem_id):
    for child in cib_section(scope):
        if child.get("id") == elem_id:
            return child
    raise AssertionError("%s not in the CIB section %s" % (elem_id, scope))


def galera_state(node):
    """'<cluster size> <cluster status> <local state>' of a node, or ''."""
    query = ("SELECT GROUP_CONCAT(VARIABLE_VALUE ORDER BY VARIABLE_NAME SEPARATOR ' ') "
             "FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN "
             "('WSREP_CLUSTER_SIZE','WSREP_CLUSTER_STATUS','WSREP_LOCAL_STATE_COMMENT')")
    rc, out = sh(node, "mysql --protocol=socket -NBe \"%s\" 2>/dev/null" % query, timeout=20)
    return out.strip() if rc == 0 else ""


def galera_synced_on_all():
    return all(galera_state(n) == "3 Primary Synced" for n in CONTROLLERS)


def everything_started(status=None):
    """Every controller clone runs on the three controllers, Galera promoted
    on all of them, and the VIP is placed."""
    status = crm_status() if status is None else status
    want = ("galera-clone", "rabbitmq-clone", "haproxy-clone",
            "cp-api-clone", "cp-conductor-clone", "cp-scheduler-clone")
    if any(sorted(status.get(c, {})) != sorted(CONTROLLERS) for c in want):
        return False
    if set(status["galera-clone"].values()) != {"Promoted"}:
        return False
    return len(status.get("vip", {})) == 1


def wait_settled(timeout=600):
    """Wait until everything runs (see everything_started); seconds taken."""
    return wait_for(everything_started, timeout, step=2)


def wait_for(predicate, timeout, step=0.5):
    """Seconds until predicate() is true; AssertionError after timeout."""
    t0 = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - t0
        except (OSError, subprocess.SubprocessError, ET.ParseError, ValueError):
            pass
        if time.monotonic() - t0 > timeout:
            raise AssertionError("not reached within %ss: %s" % (timeout, predicate.__doc__ or predicate))
        time.sleep(step)


def http_status(url, token=None, timeout=5):
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def token(cloud_name="lab-demo"):
    """(token, compute endpoint URL) for a clouds.yaml entry, through the VIP."""
    import yaml
    with open(CLOUDS, encoding="utf-8") as fh:
        auth = yaml.safe_load(fh)["clouds"][cloud_name]["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"],
        "domain": {"name": auth.get("user_domain_name", "Default")}}}},
        "scope": {"project": {"name": auth["project_name"],
                              "domain": {"name": auth.get("project_domain_name", "Default")}}}}}
    req = urllib.request.Request(auth["auth_url"].rstrip("/") + "/auth/tokens",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=15) as res:
        tok = res.headers["X-Subject-Token"]
        catalog = json.loads(res.read())["token"]["catalog"]
    compute = [e["url"] for s in catalog if s["type"] == "compute"
               for e in s["endpoints"] if e["interface"] == "public"][0]
    return tok, compute.rstrip("/")


def server_ids(cloud_name="lab-demo"):
    """Ids of the project's servers, listed through the VIP (raises when
    the API does not answer 200)."""
    tok, compute = token(cloud_name)
    status, raw = http_status(compute + "/servers", token=tok, timeout=15)
    if status != 200:
        raise OSError("GET /servers -> %s" % status)
    return sorted(s["id"] for s in json.loads(raw)["servers"])


def record(drill, **figures):
    """Print and append the measured figures of a drill (JSON line)."""
    line = json.dumps(dict(drill=drill, at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           **{k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}))
    print(line)
    try:
        with open(TIMES_FILE, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:
        pass
