"""End-to-end boot benchmark: N servers requested by C concurrent clients
through the Compute API until all are ACTIVE. Prints JSON.

    python bench/boot_bench.py [--servers 1000] [--clients 20] [--hosts 50]

It starts its own stack ``bench`` (every service as a process, like the
e2e tests) on port 28774 against the devenv's Keystone and Glance, with one
fake compute process presenting ``--hosts`` hosts, sets the demo project's
quota to unlimited, then:

* each client thread POSTs /servers one after another (the request time is
  the time to the 202);
* a watcher lists /servers/detail every ``--poll`` seconds and stamps the
  moment each server is first seen ACTIVE (so request-to-ACTIVE has that
  resolution);
* figures: ``servers_per_s`` = servers / (last ACTIVE - first request),
  request latency and request-to-ACTIVE percentiles, errors by status.

Targets from the issue: at least 50 servers/s, p99 request-to-ACTIVE under 2 s.
"""
import argparse
import collections
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.devenv import api as devenv  # noqa: E402
from tools.stack import Stack  # noqa: E402


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


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
    ap.add_argument("--poll", type=float, default=0.1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--keep", action="store_true", help="leave the stack running")
    args = ap.parse_args()

    info = devenv.ensure_up()
    stack = Stack("bench", api_port=28774, computes=["bench"],
                  extra_conf={"fake_driver": {"host_count": str(args.hosts)},
                              "api": {"workers": "2", "threads": "16"},
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
                with lock:
                    if r.status_code == 202:
                        created[r.json()["server"]["id"]] = t0
                        req_ms.append((t1 - t0) * 1000)
                    else:
                        errors[str(r.status_code)] += 1

        active_at = {}
        failed = set()
        done = threading.Event()

        def watcher():
            s = requests.Session()
            while not done.is_set():
                r = s.get(api + "/servers/detail?limit=100000", headers=h, timeout=60)
                now = time.monotonic()
                for srv in r.json().get("servers", []):
                    if srv["status"] == "ACTIVE" and srv["id"] not in active_at:
                        active_at[srv["id"]] = now
                    elif srv["status"] == "ERROR":
                        failed.add(srv["id"])
                time.sleep(args.poll)

        start = time.monotonic()
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
            "poll_resolution_s": args.poll,
            "targets": {"servers_per_s": 50, "p99_request_to_active_s": 2.0},
        }
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep:
            stack.stop()


if __name__ == "__main__":
    main()
