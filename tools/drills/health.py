"""Health probes and fault targets, driven by an Ansible inventory.

Commands reach a host the way the inventory says: ``podman exec`` into the
container named as the host for ``lab_container_exec: true`` or
``ansible_connection: containers.podman.podman`` (the lab: fast, and it
works while a host's network is cut), a plain subprocess for ``local``,
and an ``ansible HOST -b -m shell`` ad-hoc call (JSON callback) otherwise
(SSH to real machines).

Probes (each ``-> (ok, detail)``), all must pass for "fully healthy":

- ``pacemaker``: ``crm_mon -1 --output-as=xml`` on the first controller
  that answers: every node online, quorum, every resource active, not
  failed, in role Started/Promoted/Unpromoted;
- ``galera``: on every host of group ``galera``: ``wsrep_cluster_size`` =
  the group's size, ``Synced``, ``Primary``;
- ``rabbitmq``: on every host of group ``rabbitmq``: ``rabbitmqctl
  cluster_status`` lists as many running nodes as the group has, no
  partition;
- ``services``: through the API as admin (GET /os-services): every enabled
  compute service ``up``.

Targets: the VIP holder (the controller whose interfaces carry the VIP),
the Galera writer (HAProxy's serving server of the ``mariadb`` backend on
the VIP holder, from its admin socket), the RabbitMQ node hosting most
quorum-queue leaders (``rabbitmqctl list_queues name leader``).
"""
import concurrent.futures
import csv
import io
import json
import os
import shlex
import subprocess
import time
import xml.etree.ElementTree as ET

from tools.drills import client as osclient

DEFAULT_ANSIBLE_BIN = "/var/lib/controlplane-lab/ansible-venv/bin"
PODMAN_CONNECTIONS = ("containers.podman.podman", "podman")
GOOD_ROLES = ("Started", "Promoted", "Unpromoted", "Master", "Slave")


# ---------------------------------------------------------------- inventory
class Inventory:
    """Hosts, groups and host variables of an Ansible inventory.

    :param path: inventory path (``-i``).
    :param data: the ``ansible-inventory --list`` JSON, to skip running it.
    """

    def __init__(self, path=None, data=None, ansible_bin=None):
        self.path = path
        self.ansible_bin = ansible_bin or (DEFAULT_ANSIBLE_BIN
                                           if os.path.isdir(DEFAULT_ANSIBLE_BIN) else "")
        if data is None:
            out = subprocess.run([self._exe("ansible-inventory"), "-i", path, "--list"],
                                 capture_output=True, text=True, check=True, timeout=120)
            data = json.loads(out.stdout)
        self.data = data
        self.hostvars = data.get("_meta", {}).get("hostvars", {})

    def _exe(self, name):
        return os.path.join(self.ansible_bin, name) if self.ansible_bin else name

    def hosts(self, group):
        """Hosts of a group, children included, in inventory order."""
        out, seen = [], set()

        def walk(g):
            node = self.data.get(g, {})
            for h in node.get("hosts", []):
                if h not in seen:
                    seen.add(h)
                    out.append(h)
            for child in node.get("children", []):
                walk(child)
        walk(group)
        return out

    def var(self, host, name, default=None):
        return self.hostvars.get(host, {}).get(name, default)

    def group_var(self, group, name, default=None):
        hosts = self.hosts(group)
        return self.var(hosts[0], name, default) if hosts else default

    # ------------------------------------------------------------ commands
    def run(self, host, cmd, timeout=60):
        """Run a shell command on a host. Returns ``(rc, stdout, stderr)``;
        rc 255 (and the error in stderr) when the host cannot be reached."""
        conn = self.var(host, "ansible_connection", "ssh")
        try:
            if self.var(host, "lab_container_exec", False) is True:
                res = subprocess.run(["podman", "exec", host, "sh", "-c", cmd],
                                     capture_output=True, text=True, timeout=timeout)
                return res.returncode, res.stdout, res.stderr
            if conn in PODMAN_CONNECTIONS:
                name = self.var(host, "ansible_host", host)
                res = subprocess.run(["podman", "exec", name, "sh", "-c", cmd],
                                     capture_output=True, text=True, timeout=timeout)
                return res.returncode, res.stdout, res.stderr
            if conn == "local":
                res = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True,
                                     timeout=timeout)
                return res.returncode, res.stdout, res.stderr
            return self._ansible_shell(host, cmd, timeout)
        except subprocess.TimeoutExpired:
            return 255, "", "timeout after %ss" % timeout

    def _ansible_shell(self, host, cmd, timeout):
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json",
                   ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        res = subprocess.run([self._exe("ansible"), host, "-i", self.path, "-b", "-m", "shell",
                              "-a", cmd, "-T", str(min(timeout, 30))],
                             capture_output=True, text=True, timeout=timeout, env=env)
        try:
            result = json.loads(res.stdout)["plays"][0]["tasks"][0]["hosts"][host]
        except (ValueError, KeyError, IndexError):
            return 255, "", res.stdout[-500:] + res.stderr[-500:]
        if result.get("unreachable"):
            return 255, "", result.get("msg", "unreachable")
        return result.get("rc", 1), result.get("stdout", ""), result.get("stderr", "")


# ---------------------------------------------------------------- parsers
def parse_crm_mon(xml_text):
    """Pacemaker status from ``crm_mon -1 --output-as=xml``.

    :returns: ``(ok, detail)``; detail names offline nodes, missing quorum
        and resources that are not running well.
    """
    root = ET.fromstring(xml_text)
    problems = []
    dc = root.find("./summary/current_dc")
    if dc is None or dc.get("with_quorum") != "true":
        problems.append("no quorum")
    for node in root.iter("node"):
        if node.get("online") is not None and node.get("online") != "true":
            problems.append("node %s offline" % node.get("name"))
    count = 0
    resources = root.find("resources")
    for rsc in (resources.iter("resource") if resources is not None else []):
        count += 1
        if rsc.get("active") != "true" or rsc.get("failed") == "true" \
                or rsc.get("role") not in GOOD_ROLES:
            problems.append("%s %s%s" % (rsc.get("id"), rsc.get("role"),
                                         " FAILED" if rsc.get("failed") == "true" else ""))
    for failure in root.iter("failure"):
        problems.append("failed action %s on %s" % (failure.get("op_key") or failure.get("id"),
                                                    failure.get("node")))
    if problems:
        return False, "; ".join(problems)
    return True, "%d resource instance(s) running" % count


def parse_wsrep(text, expected_size):
    """``SHOW GLOBAL STATUS LIKE 'wsrep_%'`` (``mysql -N -B``) of one node.

    :returns: ``(ok, detail)``: size == expected, Synced, Primary.
    """
    status = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            status[parts[0].strip()] = parts[1].strip()
    size = status.get("wsrep_cluster_size")
    state = status.get("wsrep_local_state_comment")
    prim = status.get("wsrep_cluster_status")
    ok = size == str(expected_size) and state == "Synced" and prim == "Primary"
    return ok, "size=%s %s %s" % (size, state, prim)


def parse_rabbit_cluster(text, expected_nodes):
    """``rabbitmqctl -q cluster_status --formatter json`` of one node.

    :returns: ``(ok, detail)``: as many running nodes as expected, no
        network partition, no alarm.
    """
    data = json.loads(text)
    running = data.get("running_nodes", [])
    partitions = data.get("partitions") or {}
    alarms = data.get("alarms") or []
    ok = len(running) == expected_nodes and not partitions and not alarms
    detail = "%d running" % len(running)
    if partitions:
        detail += ", partitions %s" % partitions
    if alarms:
        detail += ", alarms %s" % alarms
    return ok, detail


def parse_haproxy_writer(stat_csv, backend="mariadb"):
    """Server of an active/backup HAProxy backend that receives traffic, from
    ``show stat`` CSV: the first UP non-backup server, else the first UP
    backup (HAProxy's order without ``allbackups``). None when none is UP."""
    text = stat_csv.lstrip("# ")
    rows = [r for r in csv.DictReader(io.StringIO(text))
            if r.get("pxname") == backend and r.get("svname") not in ("FRONTEND", "BACKEND")]
    for want_backup in ("0", "1"):
        for r in rows:
            if r.get("bck") == want_backup and r.get("status", "").startswith("UP"):
                return r["svname"]
    return None


def parse_queue_leaders(text):
    """``rabbitmqctl -q list_queues name leader --formatter json`` ->
    ``{node name: number of queues it leads}`` (classic queues, which
    have no leader, are left out)."""
    counts = {}
    for q in json.loads(text or "[]"):
        leader = q.get("leader")
        if leader and leader not in ("", "undefined"):
            counts[leader] = counts.get(leader, 0) + 1
    return counts


def node_to_host(node, hosts):
    """``rabbit@ctl2`` (or ``ctl2.example.org``) -> the inventory host it names."""
    short = node.split("@", 1)[-1].split(".", 1)[0]
    for h in hosts:
        if h == short or h.split(".", 1)[0] == short:
            return h
    return None


def parse_services(services, compute_hosts=()):
    """``/os-services`` items -> ``(ok, detail, {compute host: state})``:
    every enabled service up, at least one service, and a compute service
    for each of ``compute_hosts``."""
    down = ["%s@%s" % (s.get("binary"), s.get("host")) for s in services
            if s.get("status") == "enabled" and s.get("state") != "up"]
    states = {}
    for s in services:
        if s.get("binary", "").endswith("compute"):
            states[s.get("host")] = s.get("state")
    problems = []
    if down:
        problems.append("down: " + ", ".join(sorted(down)))
    missing = sorted(set(compute_hosts) - set(states))
    if missing:
        problems.append("no compute service: " + ", ".join(missing))
    if not services:
        problems.append("no service registered")
    if problems:
        return False, "; ".join(problems), states
    return True, "%d service(s) up" % len(services), states


# ---------------------------------------------------------------- probes
class Prober:
    """The probes over an inventory and an admin cloud.

    :param inventory: :class:`Inventory` or None (then only ``services``).
    :param admin: :class:`tools.drills.client.CloudConfig` of an admin, or None.
    """

    def __init__(self, inventory=None, admin=None, controllers="controllers",
                 galera="galera", rabbitmq="rabbitmq", computes="computes"):
        self.inv = inventory
        self.admin = admin
        self.groups = {"controllers": controllers, "galera": galera, "rabbitmq": rabbitmq,
                       "computes": computes}

    def compute_hosts(self):
        return self.inv.hosts(self.groups["computes"]) if self.inv is not None else []

    def available(self):
        names = []
        if self.inv is not None:
            if self.inv.hosts(self.groups["controllers"]):
                names.append("pacemaker")
            if self.inv.hosts(self.groups["galera"]):
                names.append("galera")
            if self.inv.hosts(self.groups["rabbitmq"]):
                names.append("rabbitmq")
        if self.admin is not None:
            names.append("services")
        return names

    def _each(self, hosts, fn):
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(len(hosts), 1)) as ex:
            results = list(ex.map(fn, hosts))
        ok = all(r[0] for r in results) and bool(results)
        return ok, "; ".join("%s: %s" % (h, r[1]) for h, r in zip(hosts, results))

    def pacemaker(self):
        problems = []
        for host in self.inv.hosts(self.groups["controllers"]):
            rc, out, err = self.inv.run(host, "crm_mon -1 --output-as=xml", timeout=30)
            if rc == 0 and out.strip():
                try:
                    ok, detail = parse_crm_mon(out)
                except ET.ParseError as exc:
                    ok, detail = False, "unparsable crm_mon output: %s" % exc
                return ok, "%s: %s" % (host, detail)
            problems.append("%s: rc=%s %s" % (host, rc, err.strip()[:100]))
        return False, "; ".join(problems) or "no controller"

    def galera(self):
        hosts = self.inv.hosts(self.groups["galera"])

        def one(host):
            rc, out, err = self.inv.run(
                host, "mysql -N -B -e \"SHOW GLOBAL STATUS LIKE 'wsrep_%'\"", timeout=30)
            if rc != 0:
                return False, "rc=%s %s" % (rc, err.strip()[:100])
            return parse_wsrep(out, len(hosts))
        return self._each(hosts, one)

    def rabbitmq(self):
        hosts = self.inv.hosts(self.groups["rabbitmq"])

        def one(host):
            rc, out, err = self.inv.run(
                host, "rabbitmqctl -q cluster_status --formatter json", timeout=60)
            if rc != 0:
                return False, "rc=%s %s" % (rc, (err or out).strip()[:100])
            try:
                return parse_rabbit_cluster(out, len(hosts))
            except ValueError:
                return False, "unparsable cluster_status"
        return self._each(hosts, one)

    def service_list(self):
        session = osclient.Session(self.admin, timeout=(3.0, 10.0))
        resp = session.authenticate()
        if resp.status_code != 201:
            raise RuntimeError("admin authentication: HTTP %d" % resp.status_code)
        resp = session.compute("GET", "/os-services")
        if resp.status_code != 200:
            raise RuntimeError("os-services: HTTP %d" % resp.status_code)
        return resp.json()["services"]

    def services(self):
        try:
            ok, detail, _states = parse_services(self.service_list(), self.compute_hosts())
            return ok, detail
        except Exception as exc:
            return False, str(exc)[:200]

    def probe(self, names=None):
        """Run the probes in parallel: ``{name: (ok, detail)}``."""
        names = names or self.available()
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(names) or 1) as ex:
            futures = {n: ex.submit(getattr(self, n)) for n in names}
        out = {}
        for n, f in futures.items():
            try:
                out[n] = f.result()
            except Exception as exc:
                out[n] = (False, "probe error: %s" % exc)
        return out

    def wait_healthy(self, timeout=300, interval=2.0, names=None, progress=print):
        """Probe until every probe passes once, or ``timeout`` seconds.

        :returns: ``{"healthy": bool, "elapsed_s": s, "probes": {name:
            {"ok", "detail", "first_ok_s"}}}``; ``first_ok_s`` is when a
            probe first passed (it may fail again before the others pass).
        """
        start = time.monotonic()
        first_ok = {}
        last = {}
        while True:
            last = self.probe(names)
            elapsed = time.monotonic() - start
            for n, (ok, _d) in last.items():
                if ok and n not in first_ok:
                    first_ok[n] = round(elapsed, 1)
            if all(ok for ok, _d in last.values()) or elapsed >= timeout:
                break
            progress("health +%3.0fs: %s" % (elapsed, ", ".join(
                "%s %s" % (n, "ok" if ok else "NOT OK (%s)" % d[:120])
                for n, (ok, d) in sorted(last.items()))))
            time.sleep(interval)
        healthy = all(ok for ok, _d in last.values())
        return {"healthy": healthy, "elapsed_s": round(time.monotonic() - start, 1),
                "probes": {n: {"ok": ok, "detail": d, "first_ok_s": first_ok.get(n)}
                           for n, (ok, d) in last.items()}}

    def wait_compute_state(self, host, state="down", timeout=180, interval=2.0,
                           progress=print):
        """Poll /os-services until the compute service of ``host`` is in
        ``state``; returns seconds it took, or None on timeout."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            try:
                _ok, _d, states = parse_services(self.service_list())
                if states.get(host) == state:
                    return round(time.monotonic() - start, 1)
                progress("compute %s is %s, waiting for %s" % (host, states.get(host), state))
            except Exception as exc:
                progress("services: %s" % exc)
            time.sleep(interval)
        return None

    # ------------------------------------------------------------ targets
    def vip_holder(self, vip=None):
        """The controller whose interfaces carry the VIP (None: nobody)."""
        hosts = self.inv.hosts(self.groups["controllers"])
        vip = vip or self.inv.group_var(self.groups["controllers"], "controlplane_vip")
        if not vip:
            raise RuntimeError("no VIP: pass --vip or set controlplane_vip")
        for host in hosts:
            rc, out, _err = self.inv.run(host, "ip -o -4 addr show", timeout=20)
            if rc == 0 and (" %s/" % vip) in out:
                return host
        return None

    def galera_writer(self, backend="mariadb", vip=None):
        """The Galera node HAProxy (on the VIP holder) sends writes to."""
        holder = self.vip_holder(vip)
        if holder is None:
            raise RuntimeError("nobody holds the VIP")
        script = ("import socket;s=socket.socket(socket.AF_UNIX);"
                  "s.connect('/run/haproxy/admin.sock');s.sendall(b'show stat\\n');"
                  "d=b''\nwhile True:\n c=s.recv(65536)\n if not c: break\n d+=c\n"
                  "print(d.decode())")
        rc, out, err = self.inv.run(holder, "python3 -c %s" % shlex.quote(script), timeout=20)
        if rc != 0:
            raise RuntimeError("haproxy stats on %s: %s" % (holder, err.strip()[:200]))
        server = parse_haproxy_writer(out, backend)
        if server is None:
            raise RuntimeError("no UP server in HAProxy backend %s" % backend)
        return server

    def rabbitmq_leader(self, vhost="controlplane"):
        """The RabbitMQ host leading most quorum queues of ``vhost`` (the
        first node when there is no quorum queue)."""
        hosts = self.inv.hosts(self.groups["rabbitmq"])
        for host in hosts:
            rc, out, _err = self.inv.run(
                host, "rabbitmqctl -q list_queues -p %s name leader --formatter json"
                % shlex.quote(vhost), timeout=60)
            if rc != 0:
                continue
            counts = parse_queue_leaders(out)
            if not counts:
                return hosts[0]
            node = max(sorted(counts), key=lambda n: counts[n])
            return node_to_host(node, hosts) or hosts[0]
        raise RuntimeError("no RabbitMQ node answered list_queues")
