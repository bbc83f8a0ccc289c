"""Framework self-test without the lab: the drill loop against a stack of
local processes (``tools.stack``), with a crude fault.

    python -m tools.drills local --fault api --out /tmp/drills/local-api

Starts (fresh) the stack ``drills`` on port 38774 with two fake computes
(and, unless ``--no-volumes``, the volume services with the Block Storage
API on port 38776),
runs the workload in the background through that API, waits a baseline,
kills the ``api`` (or ``conductor``) process group with SIGKILL, restarts
it after ``--outage`` seconds, waits for the API and services to be
healthy, lets the workload run on, stops it, checks the books, writes the
report, and stops the stack. Needs the devenv (Keystone, Glance, MariaDB,
RabbitMQ: ``python3 -m tools.devenv up``) and runs from its venv (the
stack starts that venv's ``controlplane-*`` commands).
"""
import json
import os
import time

import yaml

from tools.drills import books, client, health, journal, report, workload


def _clouds_file(out, api_url, volume_url=None):
    from tools.devenv import config as dconfig
    clouds = yaml.safe_load(dconfig.path("clouds.yaml").read_text())
    for cloud in clouds["clouds"].values():
        cloud["compute_endpoint_override"] = api_url
        if volume_url:
            cloud["volume_endpoint_override"] = volume_url
    path = os.path.join(out, "clouds.yaml")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        yaml.safe_dump(clouds, f)
    return path


def _ensure_flavor(admin):
    session = client.Session(admin)
    session.authenticate()
    try:
        client.resolve_flavor(session, "m1.tiny")
    except LookupError:
        session.compute("POST", "/flavors", json={"flavor": {
            "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1}})


def main(args):
    from tools.stack import Stack
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    drill = "local-%s-kill" % args.fault
    stack = Stack(args.name, api_port=args.api_port, computes=["drills-c1", "drills-c2"],
                  extra_conf={"fake_driver": {"spawn_time": "1"}}, volumes=args.volumes,
                  volume_api_port=args.api_port + 2)
    print("stack %s: fresh start on port %d" % (args.name, args.api_port), flush=True)
    stack.stop()
    stack.drop()
    stack.prepare()
    stack.start()
    try:
        volume_url = stack.volume_url + "/v3" if args.volumes else None
        clouds = _clouds_file(out, stack.api_url, volume_url)
        admin = client.CloudConfig(clouds, "admin")
        _ensure_flavor(admin)
        workload.start_background(out, ["--out", out, "--clouds", clouds, "--cloud", "demo",
                                        "--clients", str(args.clients)]
                                   + ([] if args.volumes else ["--no-volumes"]))
        time.sleep(args.baseline)
        journal.mark(out, "fault", "kill -9 %s (pid %s)" % (args.fault, stack.pid(args.fault)))
        stack.kill(args.fault)
        print("killed %s; restarting in %ss" % (args.fault, args.outage), flush=True)
        time.sleep(args.outage)
        stack.restart(args.fault)
        journal.mark(out, "heal", "restarted %s" % args.fault)
        prober = health.Prober(None, admin)
        res = prober.wait_healthy(timeout=120, interval=1.0)
        if res["healthy"]:
            journal.mark(out, "healthy", "services probe passes")
        with open(os.path.join(out, "health.json"), "w") as f:
            json.dump(res, f, indent=2)
        time.sleep(args.after)
        workload.stop_background(out)
        with open(os.path.join(out, "workload.json")) as f:
            meta = json.load(f)
        records = journal.read(os.path.join(out, journal.REQUESTS))
        demo = client.CloudConfig(clouds, "demo")
        res = books.check(demo, records, meta["prefix"], settle=90)
        with open(os.path.join(out, "books.json"), "w") as f:
            json.dump(res, f, indent=2)
        books.cleanup(demo, meta["prefix"], volumes=args.volumes)
        rep = report.write(out, drill)
        print(report.text(rep), flush=True)
        return 0 if rep["passed"] else 1
    finally:
        stack.stop()
