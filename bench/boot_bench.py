"""End-to-end boot benchmark: N servers requested by C concurrent clients
through the Compute API until all are ACTIVE. Prints JSON.

    python bench/boot_bench.py [--servers 1000] [--clients 20] [--hosts 50]
                               [--mode closed|open]

Modes (``"mode"`` in the JSON says which one ran):

* ``closed`` (default): each client boots a server, waits until it is
  ACTIVE (or ERROR), then boots the next one, so at most C boots are in
  flight. This is how OpenStack Rally measures "N servers by C concurrent
  clients": its ``constant`` runner keeps ``concurrency`` iterations
  running and starts a new one only when one ends, without pausing, until
  ``times`` iterations ran (``ConstantScenarioRunner`` and its
  ``_worker_process`` in rally ``rally/plugins/task/runners/constant.py``),
  and one iteration of ``NovaServers.boot_server``
  is ``_boot_server``, which "returns when the server is actually booted
  and in ACTIVE state" (``servers.create``, then ``wait_for_status(...,
  ready_statuses=["ACTIVE"])`` polling every
  ``nova_server_boot_poll_interval``, 1 s by default, after a
  ``nova_server_boot_prepoll_delay`` of 1 s): see rally-openstack
  ``rally_openstack/task/scenarios/nova/utils.py`` and
  ``rally_openstack/task/scenarios/nova/servers.py`` (``BootServer``).
  The issue's "1,000 servers requested by 20 concurrent clients until all
  are ACTIVE" is that task with ``times: 1000, concurrency: 20``, hence
  the default. Here
  clients do not poll themselves: the shared watcher below wakes the
  client whose server it sees ACTIVE (no pre-poll delay, ``--poll``
  resolution instead of Rally's 1 s).
* ``open``: each client POSTs one server after another without waiting
  for ACTIVE (every request is queued at once; latency then measures the
  backlog the stack works through).

It starts its own stack ``bench`` (every service as a process, like the
e2e tests) on port 28774 against the devenv's Keystone and Glance, with one
fake compute process presenting ``--hosts`` hosts, sets the demo project's
quota to unlimited, then:

* each client thread POSTs /servers (the request time is the time to the
  202), then in ``closed`` mode waits for that server to be seen ACTIVE;
* a watcher lists /servers/detail every ``--poll`` seconds and stamps the
  moment each server is first seen ACTIVE (so request-to-ACTIVE has that
  resolution plus the duration of one listing); by default it asks only
  for the servers changed since its previous poll (``changes-since``, as
  Nova's API guide recommends for polling) so that its own load on the
  API does not grow with the number of servers; ``--watch full`` lists
  every server each time;
* figures: ``servers_per_s`` = servers / (last ACTIVE - first request),
  request latency and request-to-ACTIVE percentiles (their resolution is
  ``poll_resolution_s`` plus one listing), errors by status;
  CPU seconds used during the run by each service of the stack (all its
  processes, from /proc) and per ACTIVE server, the bench's own CPU, and
  the CPU of the shared servers (MariaDB, RabbitMQ, memcached, the
  devenv's Glance and Keystone; other users of the machine count there
  too). On a shared machine CPU per server is the steadier figure.

Targets from the issue: at least 50 servers/s, p99 request-to-ACTIVE under 2 s.
"""
import argparse
import collections
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.devenv import api as devenv  # noqa: E402
from tools.devenv import proc  # noqa: E402
from tools.stack import Stack  # noqa: E402


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def group_cpu_s(pgid):
    """User+system CPU seconds of the live processes of process group
    ``pgid`` (a stack service and its children, e.g. gunicorn workers),
    from /proc/<pid>/stat. Children that already exited are not counted."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _CLK_TCK


def shared_cpu():
    """CPU seconds of the shared servers (MariaDB, RabbitMQ, Glance,
    Keystone, memcached) by command name; other users of the machine load
    them too, so their deltas are an upper bound of the bench's share."""
    names = {"mariadbd": "mariadb", "mysqld": "mariadb", "beam.smp": "rabbitmq",
             "memcached": "memcached"}
    out = collections.Counter()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                head, rest = f.read().rsplit(")", 1)
        except OSError:
            continue
        comm = head.split("(", 1)[1]
        key = names.get(comm)
        if key:
            fields = rest.split()
            out[key] += (int(fields[11]) + int(fields[12])) / _CLK_TCK
    for name in ("glance", "keystone"):   # the devenv's, by process group
        pid = proc.read_pid(name)
        if pid:
            out[name] = group_cpu_s(pid)
    return dict(out)


def mariadb_status(stack):
    """Server-wide MariaDB counters (new connections, commits, statements):
    shared with every other user of the server, so an upper bound."""
    import sqlalchemy as sa
    engine = sa.create_engine(stack.mysql.rstrip("/") + "/", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SHOW GLOBAL STATUS WHERE Variable_name IN "
                "('Connections', 'Com_commit', 'Questions', 'Innodb_os_log_fsyncs')")).all()
        return {name: int(value) for name, value in rows}
    finally:
        engine.dispose()


def stack_cpu(stack, hosts):
    """``{service: CPU seconds so far}`` of every process of the stack."""
    out = {}
    for name, pid in stack.status().items():
        if pid:
            out[name.replace("stack-%s-" % stack.name, "")] = group_cpu_s(pid)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["bench-client"] = usage.ru_utime + usage.ru_stime
    return out


def token_for(info, cloud):
    auth = info[cloud]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"],
        "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"name": "Default"}}}}}
    r = requests.post(info["keystone"]["url"] + "/auth/tokens", json=body, timeout=30)
    r.raise_for_status()
    return r.headers["X-Subject-Token"], r.json()["token"]["project"]["id"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--mode", choices=["closed", "open"], default="closed",
                    help="closed: each client waits for its server to be ACTIVE "
                         "before booting the next (Rally's constant runner with "
                         "NovaServers.boot_server; default); open: each client "
                         "POSTs one server after another without waiting")
    ap.add_argument("--poll", type=float, default=None,
                    help="seconds between two listings of the watcher (default "
                         "0.05 in closed mode, where it adds to every boot's "
                         "latency, 0.25 in open mode)")
    ap.add_argument("--watch", choices=["changes-since", "full"], default="changes-since",
                    help="watcher lists only servers changed since its previous poll "
                         "(Nova's changes-since filter; default) or every server "
                         "on each poll (full)")
    ap.add_argument("--full-every", type=float, default=10.0,
                    help="with changes-since, list every server every so many seconds "
                         "too (servers put in ERROR in cell0 are never updated)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--keep", action="store_true", help="leave the stack running")
    ap.add_argument("--image-cache-ttl", type=float, default=0.0,
                    help="[glance] image_cache_ttl of the stack (default 0: every "
                         "boot reads its image from Glance, as Nova)")
    ap.add_argument("--resource-update-interval", type=int, default=30,
                    help="[compute] resource_update_interval of the stack (default "
                         "30, the option's default; the test stacks use 5 s so that "
                         "new hosts show up fast)")
    ap.add_argument("--api-workers", type=int, default=2)
    ap.add_argument("--api-threads", type=int, default=16)
    args = ap.parse_args()
    if args.poll is None:
        args.poll = 0.05 if args.mode == "closed" else 0.25

    info = devenv.ensure_up()
    stack = Stack("bench", api_port=28774, computes=["bench"],
                  extra_conf={"fake_driver": {"host_count": str(args.hosts)},
                              "api": {"workers": str(args.api_workers),
                                      "threads": str(args.api_threads)},
                              "glance": {"image_cache_ttl": str(args.image_cache_ttl)},
                              "compute": {"resource_update_interval":
                                          str(args.resource_update_interval)},
                              "rate_limit": {"enabled": "false"}})
    stack.stop()
    stack.drop()
    stack.prepare()
    hosts = ["bench"] + ["bench-%d" % i for i in range(1, args.hosts)]
    stack.start(expect_hosts=hosts)
    try:
        admin_token, _ = token_for(info, "admin")
        token, project = token_for(info, "demo")
        api = stack.api_url
        h_admin = {"X-Auth-Token": admin_token}
        r = requests.post(api + "/flavors", headers=h_admin, timeout=30, json={
            "flavor": {"name": "bench.tiny", "ram": 64, "vcpus": 1, "disk": 1}})
        flavor_id = r.json()["flavor"]["id"]
        requests.put(api + "/os-quota-sets/" + project, headers=h_admin, timeout=30, json={
            "quota_set": {"instances": -1, "cores": -1, "ram": -1}}).raise_for_status()
        image_id = info["images"]["cirros"]

        h = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.37"}
        created = {}          # id -> request start time
        req_ms = []
        errors = collections.Counter()
        lock = threading.Lock()
        counter = iter(range(args.servers))
        active_at = {}
        failed = set()
        done = threading.Event()
        waiting = {}          # id -> Event of the client waiting for it (closed mode)
        polls = []            # (seconds one listing took, servers it returned)

        def wait_active(server_id, deadline):
            """Closed mode: block until the watcher saw ``server_id``
            ACTIVE or ERROR (it sets the Event), or until ``deadline``."""
            event = threading.Event()
            with lock:
                if server_id in active_at or server_id in failed:
                    return
                waiting[server_id] = event
            if not event.wait(max(0.0, deadline - time.monotonic())):
                with lock:
                    waiting.pop(server_id, None)
                    errors["wait_timeout"] += 1

        def client():
            s = requests.Session()
            for i in counter:
                t0 = time.monotonic()
                try:
                    r = s.post(api + "/servers", headers=h, timeout=60, json={"server": {
                        "name": "b%d" % i, "imageRef": image_id, "flavorRef": flavor_id,
                        "networks": "none"}})
                except requests.RequestException as exc:
                    with lock:
                        errors[type(exc).__name__] += 1
                    continue
                t1 = time.monotonic()
                server_id = None
                with lock:
                    if r.status_code == 202:
                        server_id = r.json()["server"]["id"]
                        created[server_id] = t0
                        req_ms.append((t1 - t0) * 1000)
                    else:
                        errors[str(r.status_code)] += 1
                if server_id and args.mode == "closed":
                    wait_active(server_id, start + args.timeout)

        def watcher():
            s = requests.Session()
            since = time.time()
            last_full = time.monotonic()
            while not done.is_set():
                url = api + "/servers/detail?limit=100000"
                polled_at = time.time()
                if time.monotonic() - last_full >= args.full_every:
                    # a server created in ERROR (cell0) and never updated
                    # has no updated_at: changes-since does not show it
                    last_full = time.monotonic()
                elif args.watch == "changes-since":
                    # only servers changed since the previous poll began:
                    # updated_at has whole seconds (the format truncates
                    # too) and a transaction may commit a little after its
                    # updated_at, hence 1 s more
                    url += "&changes-since=" + time.strftime(
                        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(since - 1.0))
                t_get = time.monotonic()
                r = s.get(url, headers=h, timeout=60)
                now = time.monotonic()
                since = polled_at
                listed = r.json().get("servers", [])
                polls.append((now - t_get, len(listed)))
                woken = []
                with lock:
                    for srv in listed:
                        if srv["status"] == "ACTIVE" and srv["id"] not in active_at:
                            active_at[srv["id"]] = now
                        elif srv["status"] == "ERROR":
                            failed.add(srv["id"])
                        else:
                            continue
                        event = waiting.pop(srv["id"], None)
                        if event is not None:
                            woken.append(event)
                for event in woken:
                    event.set()
                done.wait(args.poll)

        cpu_before = stack_cpu(stack, hosts)
        shared_before = shared_cpu()
        db_before = mariadb_status(stack)
        start = time.monotonic()
        polls.clear()
        w = threading.Thread(target=watcher, daemon=True)
        w.start()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        requested = time.monotonic()
        while time.monotonic() - start < args.timeout:
            with lock:
                pending = set(created) - set(active_at) - failed
            if not pending:
                break
            time.sleep(0.2)
        done.set()
        w.join()
        cpu_after = stack_cpu(stack, hosts)
        shared_after = shared_cpu()
        db_after = mariadb_status(stack)
        shared = {k: round(shared_after[k] - shared_before.get(k, 0), 2) for k in shared_after}
        cpu = {k: round(cpu_after[k] - cpu_before.get(k, 0), 2) for k in cpu_after}
        n_active = max(1, len(active_at))
        last = max(active_at.values()) if active_at else time.monotonic()
        to_active = [active_at[i] - created[i] for i in created if i in active_at]
        result = {
            "servers_requested": args.servers, "clients": args.clients,
            "hosts": args.hosts, "accepted": len(created), "active": len(to_active),
            "error_state": len(failed), "request_errors": dict(errors),
            "requests_wall_s": round(requested - start, 2),
            "wall_s": round(last - start, 2),
            "servers_per_s": round(len(to_active) / (last - start), 1) if to_active else 0,
            "request_ms": {"p50": round(percentile(req_ms, 50), 1),
                           "p99": round(percentile(req_ms, 99), 1)} if req_ms else None,
            "request_to_active_s": {
                "p50": round(statistics.median(to_active), 3),
                "p99": round(percentile(to_active, 99), 3),
                "max": round(max(to_active), 3)} if to_active else None,
            "mode": args.mode,
            "poll_resolution_s": args.poll,
            "watcher_listings": {
                "count": len(polls),
                "mean_s": round(statistics.mean(d for d, _ in polls), 4) if polls else None,
                "p99_s": round(percentile([d for d, _ in polls], 99), 4) if polls else None,
                "mean_servers": round(statistics.mean(n for _, n in polls), 1)
                if polls else None},
            "watch": args.watch,
            "api_workers": args.api_workers, "api_threads": args.api_threads,
            "image_cache_ttl_s": args.image_cache_ttl,
            "resource_update_interval_s": args.resource_update_interval,
            "cpu_s": cpu,
            "cpu_ms_per_server": {k: round(v * 1000 / n_active, 1) for k, v in cpu.items()},
            "cpu_ms_per_server_total_stack": round(
                sum(v for k, v in cpu.items() if k != "bench-client") * 1000 / n_active, 1),
            "shared_servers_cpu_s": shared,
            "mariadb_per_server": {k: round((db_after[k] - db_before.get(k, 0)) / n_active, 1)
                                   for k in db_after},
            "load_avg_1m": round(os.getloadavg()[0], 1),
            "targets": {"servers_per_s": 50, "p99_request_to_active_s": 2.0},
        }
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep:
            stack.stop()


if __name__ == "__main__":
    main()
