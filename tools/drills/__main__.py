"""``python -m tools.drills COMMAND`` - see ``--help`` and docs/drills.md.

Commands (a drill directory ``--out DIR`` holds every file of one run):

  run       the workload (foreground, or ``--background``; ``stop`` ends it)
  stop      stop a background workload and wait for it
  mark      append an event (fault, heal, ...) to DIR/events.jsonl
  target    print a fault target: vip-holder, galera-writer, rabbitmq-leader
  health    probe the cloud once, or ``--wait`` until fully healthy
  watch-compute  wait until a compute host's service shows a state (down)
  books     check the books after recovery (DIR/books.json; exit 1 on violation)
  report    DIR/report.json + timeline.png (exit 1 when the drill failed)
  summary   markdown table of every report under a root (spread over repeats)
  local     the whole loop against a local stack of processes (framework test)
"""
import argparse
import json
import os
import sys
import time

from tools.drills import journal
from tools.drills import targets as drill_targets

DEFAULT_CLOUDS = "/var/lib/controlplane-lab/clouds.yaml"


def _progress(msg):
    print(msg, flush=True)


def _cloud(args, cloud=None):
    from tools.drills import client
    return client.CloudConfig(args.clouds, cloud or args.cloud, compute_url=args.compute_url)


def _add_cloud(p, default="lab-demo"):
    p.add_argument("--clouds", default=os.environ.get("OS_CLIENT_CONFIG_FILE", DEFAULT_CLOUDS),
                   help="clouds.yaml (default: $OS_CLIENT_CONFIG_FILE or %s)" % DEFAULT_CLOUDS)
    p.add_argument("--cloud", default=default, help="cloud name (default: %s)" % default)
    p.add_argument("--compute-url", help="compute endpoint instead of the catalog's")


def _add_inventory(p):
    p.add_argument("-i", "--inventory", help="Ansible inventory (omit: API probes only)")
    p.add_argument("--ansible-bin", help="directory of ansible/ansible-inventory "
                   "(default: the lab's ansible venv, else PATH)")
    p.add_argument("--controllers", default="controllers", help="group of the controllers")
    p.add_argument("--computes", default="computes", help="group of the compute hosts")
    p.add_argument("--admin-cloud", default="lab", help="admin cloud for the service probe")


def _prober(args, admin=True):
    from tools.drills import client, health
    inv = health.Inventory(args.inventory, ansible_bin=args.ansible_bin) \
        if args.inventory else None
    probes = getattr(args, "probes", None)
    if probes and "services" not in probes.split(","):
        admin = False
    adm = None
    if admin and args.admin_cloud:
        if os.path.exists(args.clouds):
            adm = client.CloudConfig(args.clouds, args.admin_cloud, compute_url=args.compute_url)
        else:
            _progress("no %s: the services probe is skipped" % args.clouds)
    return health.Prober(inv, adm, controllers=args.controllers, computes=args.computes)


def cmd_run(args):
    from tools.drills import workload
    if args.background:
        argv = [a for a in args.argv[1:] if a != "--background"]
        pid = workload.start_background(args.out, argv)
        _progress("workload started in the background: pid %d, journal %s" % (
            pid, os.path.join(args.out, journal.REQUESTS)))
        return 0
    res = workload.run(args.out, _cloud(args), clients=args.clients, duration=args.duration,
                       stop_file=args.stop_file, prefix=args.prefix, flavor=args.flavor,
                       image=args.image, progress=_progress, max_live=args.max_live,
                       volumes=args.volumes)
    return 0 if res["requests"] else 1


def cmd_stop(args):
    from tools.drills import workload
    ok = workload.stop_background(args.out, timeout=args.timeout)
    _progress("workload stopped" if ok else "workload did not stop in time: sent SIGTERM")
    return 0 if ok else 1


def cmd_mark(args):
    rec = journal.mark(args.out, args.event, args.detail)
    _progress("%s marked at %.3f" % (rec["event"], rec["t"]))
    return 0


def cmd_target(args):
    prober = _prober(args, admin=False)
    if args.what == "vip-holder":
        host = prober.vip_holder(args.vip)
    elif args.what == "galera-writer":
        host = prober.galera_writer(args.backend, args.vip)
    else:
        host = prober.rabbitmq_leader(args.vhost)
    if host is None:
        print("nobody", file=sys.stderr)
        return 1
    print(host)
    return 0


def cmd_health(args):
    prober = _prober(args)
    names = args.probes.split(",") if args.probes else None
    if not args.wait:
        res = prober.probe(names)
        for n, (ok, d) in sorted(res.items()):
            _progress("%-10s %s  %s" % (n, "ok" if ok else "NOT OK", d))
        return 0 if all(ok for ok, _ in res.values()) else 1
    progress = _progress
    if args.out:
        # The probes that were still failing, line by line, kept with the
        # report: which component was last to recover.
        log_path = os.path.join(args.out, "health.log" if args.mark == "healthy"
                                else args.mark + ".log")

        def progress(msg):
            _progress(msg)
            with open(log_path, "a") as f:
                f.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    res = prober.wait_healthy(timeout=args.timeout, interval=args.interval, names=names,
                              progress=progress)
    if args.out:
        if res["healthy"]:
            journal.mark(args.out, args.mark, "all probes pass")
        name = "health.json" if args.mark == "healthy" else args.mark + ".json"
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(res, f, indent=2)
    _progress("%s after %.1fs: %s" % ("HEALTHY" if res["healthy"] else "NOT HEALTHY",
                                      res["elapsed_s"], json.dumps(res["probes"])))
    return 0 if res["healthy"] else 1


def cmd_watch_compute(args):
    prober = _prober(args)
    took = prober.wait_compute_state(args.host, args.state, timeout=args.timeout,
                                     progress=_progress)
    if took is None:
        _progress("compute %s not %s within %ss" % (args.host, args.state, args.timeout))
        return 1
    if args.out:
        journal.mark(args.out, "compute_" + args.state, args.host)
    _progress("compute %s is %s (after %.1fs)" % (args.host, args.state, took))
    return 0


def cmd_books(args):
    from tools.drills import books
    with open(os.path.join(args.out, "workload.json")) as f:
        meta = json.load(f)
    records = journal.read(os.path.join(args.out, journal.REQUESTS))
    res = books.check(_cloud(args, meta["cloud"] if not args.cloud_given else None), records,
                      meta["prefix"], settle=args.settle, progress=_progress)
    with open(os.path.join(args.out, "books.json"), "w") as f:
        json.dump(res, f, indent=2)
    detail = "acked=%d orphans=%d" % (res.get("acked", 0), len(res.get("orphans", [])))
    if res.get("volumes_checked"):
        detail += " volume_acked=%d volume_orphans=%d" % (res["volume_acked"],
                                                          len(res["volume_orphans"]))
    _progress("books %s: %s" % ("balance" if res["ok"] else "DO NOT BALANCE",
                                "; ".join(res["violations"]) or detail))
    if args.cleanup:
        left = books.cleanup(_cloud(args, meta["cloud"] if not args.cloud_given else None),
                             meta["prefix"], progress=_progress,
                             volumes=meta.get("volumes", True))
        _progress("cleanup: %s" % ("done" if not left else "left %s" % left))
    return 0 if res["ok"] else 1


def cmd_report(args):
    from tools.drills import report
    rep = report.write(args.out, args.drill, run_id=args.run_id)
    _progress(report.text(rep))
    _progress("report: %s, timeline: %s" % (os.path.join(args.out, "report.json"),
                                            rep["timeline_png"]))
    return 0 if rep["passed"] else 1


def cmd_summary(args):
    from tools.drills import report
    reps = report.collect(args.root)
    table = report.summary_table(reps)
    out = args.output or os.path.join(args.root, "summary.md")
    with open(out, "w") as f:
        f.write("# Failover drills\n\n" + table)
    print(table)
    _progress("summary: %s (%d report(s))" % (out, len(reps)))
    return 0 if reps and all(r["passed"] for r in reps) else 1


def cmd_local(args):
    from tools.drills import local
    return local.main(args)


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m tools.drills",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the workload (journal every request)")
    p.add_argument("--out", required=True, help="drill directory")
    _add_cloud(p)
    p.add_argument("--clients", type=int, default=3)
    p.add_argument("--max-live", type=int, default=2, help="servers per client at once")
    p.add_argument("--no-volumes", dest="volumes", action="store_const", const=False,
                   help="do not create/attach/delete volumes (default: when the catalog "
                        "has a block-storage endpoint)")
    p.add_argument("--duration", type=float, help="seconds (default: until stopped)")
    p.add_argument("--stop-file", help="stop when this file exists")
    p.add_argument("--prefix", help="server name prefix (default: drill-<epoch>)")
    p.add_argument("--flavor", default="m1.tiny")
    p.add_argument("--image", default="cirros")
    p.add_argument("--background", action="store_true", help="detach; stop with `stop`")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("stop", help="stop a background workload")
    p.add_argument("--out", required=True)
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(func=cmd_stop)

    p = sub.add_parser("mark", help="record a drill event")
    p.add_argument("--out", required=True)
    p.add_argument("event", help="fault, heal, healthy, ...")
    p.add_argument("--detail")
    p.set_defaults(func=cmd_mark)

    p = sub.add_parser("target", help="print the host a fault goes to")
    p.add_argument("what", choices=["vip-holder", "galera-writer", "rabbitmq-leader"])
    _add_inventory(p)
    p.add_argument("--vip", help="VIP address (default: controlplane_vip)")
    p.add_argument("--backend", default="mariadb", help="HAProxy backend of Galera")
    p.add_argument("--vhost", default="controlplane", help="RabbitMQ vhost")
    p.set_defaults(func=cmd_target, clouds=DEFAULT_CLOUDS, compute_url=None)

    p = sub.add_parser("health", help="probe health (once, or --wait)")
    _add_inventory(p)
    p.add_argument("--clouds", default=os.environ.get("OS_CLIENT_CONFIG_FILE", DEFAULT_CLOUDS))
    p.add_argument("--compute-url")
    p.add_argument("--probes", help="comma list: pacemaker,galera,rabbitmq,services")
    p.add_argument("--wait", action="store_true")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--out", help="drill directory: health.json + the event")
    p.add_argument("--mark", default="healthy", help="event name when healthy")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("watch-compute", help="wait for a compute service state")
    _add_inventory(p)
    p.add_argument("--clouds", default=os.environ.get("OS_CLIENT_CONFIG_FILE", DEFAULT_CLOUDS))
    p.add_argument("--compute-url")
    p.add_argument("--host", required=True)
    p.add_argument("--state", default="down", choices=["up", "down"])
    p.add_argument("--timeout", type=float, default=180)
    p.add_argument("--out")
    p.set_defaults(func=cmd_watch_compute)

    p = sub.add_parser("books", help="check the books (after recovery)")
    p.add_argument("--out", required=True)
    _add_cloud(p)
    p.add_argument("--settle", type=float, default=120,
                   help="seconds to wait for the books to balance")
    p.add_argument("--cleanup", action="store_true", help="then delete the run's servers")
    p.set_defaults(func=cmd_books)

    p = sub.add_parser("report", help="write report.json and timeline.png")
    p.add_argument("--out", required=True)
    p.add_argument("--drill", required=True, choices=sorted(drill_targets.DRILLS))
    p.add_argument("--run-id")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("summary", help="one table for every report under ROOT")
    p.add_argument("root")
    p.add_argument("--output", help="markdown file (default: ROOT/summary.md)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("local", help="framework test against a local process stack")
    p.add_argument("--fault", choices=["api", "conductor"], default="api")
    p.add_argument("--out", required=True)
    p.add_argument("--name", default="drills", help="stack name")
    p.add_argument("--api-port", type=int, default=38774)
    p.add_argument("--baseline", type=float, default=20)
    p.add_argument("--outage", type=float, default=8)
    p.add_argument("--after", type=float, default=20)
    p.add_argument("--clients", type=int, default=3)
    p.add_argument("--no-volumes", dest="volumes", action="store_false",
                   help="servers only (default: the stack runs the volume services too)")
    p.set_defaults(func=cmd_local)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.cloud_given = "--cloud" in argv
    args.argv = list(argv)
    try:
        return args.func(args)
    except (RuntimeError, LookupError, OSError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
