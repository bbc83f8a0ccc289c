"""``controlplane-manage``: database and cells v2 administration (Nova's
``nova-manage``).

Commands::

    controlplane-manage [--config-file F] db sync [--cell0-connection URL]
    controlplane-manage api_db sync
    controlplane-manage cell_v2 map_cell0 [--database_connection URL]
    controlplane-manage cell_v2 create_cell [--name N] [--transport-url URL]
                                            [--database_connection URL] [--uuid U]
                                            [--disabled] [--verbose]
    controlplane-manage cell_v2 discover_hosts [--cell_uuid U] [--verbose]
    controlplane-manage cell_v2 list_cells [--verbose]
    controlplane-manage cell_v2 list_hosts [--cell_uuid U]
    controlplane-manage service list [--host H] [--binary B]
    controlplane-manage service check --binary B [--host H] [--since EPOCH]
    controlplane-manage ping conductor|scheduler|volume-scheduler [--host H | --any]
                             [--timeout S]

Exit codes: 0 success, 1 error (message on stderr), 2 bad usage, and as
Nova's ``create_cell``: 2 when a cell with that transport_url and
database_connection exists already.

The health checks (``service check``, ``ping``) are what the Pacemaker
resource agents in ``ocf_agents/`` run: exit 0 when healthy, 1 when not
(reason on stderr).
"""
import argparse
import logging
import re
import sys
import uuid as uuidlib

from sqlalchemy.engine import make_url

from controlplane.db.engine import CELL0_UUID

LOG = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A command failed with a message for the operator and an exit code."""

    def __init__(self, message, code=EXIT_ERROR):
        super().__init__(message)
        self.code = code


def _out(text=""):
    print(text)


def mask_url(url):
    """The URL with its password replaced by ``****`` (for display)."""
    if not url:
        return url
    return re.sub(r"(://[^:/@,]+:)[^@/]*@", r"\1****@",
                  re.sub(r"(,[^:/@,]+:)[^@/,]*@", r"\1****@", url))


def default_cell0_connection(conf):
    """Nova's default: the ``[database] connection`` URL with ``_cell0``
    appended to the database name."""
    url = make_url(conf.database.connection)
    return url.set(database=(url.database or "controlplane") + "_cell0") \
        .render_as_string(hide_password=False)


def _table(headers, rows):
    widths = [len(h) for h in headers]
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    for row in rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row)]
    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lines = [sep, "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |", sep]
    for row in rows:
        lines.append("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |")
    lines.append(sep)
    return "\n".join(lines)


# -- db ---------------------------------------------------------------------------

def cmd_api_db_sync(conf, args):
    from controlplane.db import migration
    migration.db_sync(conf.api_database.connection, "api")
    _out("API database synced: %s" % mask_url(conf.api_database.connection))
    return EXIT_OK


def cmd_db_sync(conf, args):
    """API DB first, then cell0, this host's cell and every mapped cell."""
    from controlplane.db import cells as cells_db
    from controlplane.db import migration
    cmd_api_db_sync(conf, args)
    urls = []
    try:
        cells = cells_db.list_cell_mappings(include_cell0=True)
    except Exception as exc:  # noqa: BLE001
        raise CommandError("cannot read cell mappings: %s" % exc)
    cell0 = [c for c in cells if c["uuid"] == CELL0_UUID]
    urls.append(("cell0", cell0[0]["database_connection"] if cell0 else
                 (args.cell0_connection or default_cell0_connection(conf))))
    urls.append(("this cell ([database] connection)", conf.database.connection))
    for cell in cells:
        if cell["uuid"] != CELL0_UUID:
            urls.append((cell["name"] or cell["uuid"], cell["database_connection"]))
    done = set()
    for name, url in urls:
        if url in done or not url or url.startswith("none:"):
            continue
        done.add(url)
        migration.db_sync(url, "cell")
        _out("Cell database %s synced: %s" % (name, mask_url(url)))
    return EXIT_OK


# -- cell_v2 ----------------------------------------------------------------------

def cmd_map_cell0(conf, args):
    from controlplane.db import cells as cells_db
    url = args.database_connection or default_cell0_connection(conf)
    try:
        existing = cells_db.get_cell_mapping(uuid=CELL0_UUID)
    except Exception:  # noqa: BLE001 - NotFound
        existing = None
    if existing is not None:
        _out("Cell0 is already setup")
        return EXIT_OK
    cells_db.create_cell_mapping(CELL0_UUID, "cell0", "none:///", url)
    _out("Cell0 mapped to %s" % mask_url(url))
    return EXIT_OK


def cmd_create_cell(conf, args):
    from controlplane.db import cells as cells_db
    transport_url = args.transport_url or conf.transport_url
    db_url = args.database_connection or conf.database.connection
    if not transport_url:
        raise CommandError("Must specify --transport-url if [DEFAULT]/transport_url "
                           "is not set in the configuration file.")
    if not db_url:
        raise CommandError("Must specify --database_connection if [database]/connection "
                           "is not set in the configuration file.")
    for cell in cells_db.list_cell_mappings(include_cell0=True):
        if cell["transport_url"] == transport_url and \
                cell["database_connection"] == db_url:
            print("The specified transport_url and database_connection combination "
                  "already exists for another cell with uuid %s." % cell["uuid"],
                  file=sys.stderr)
            return 2
    cell_uuid = args.uuid or str(uuidlib.uuid4())
    try:
        cell = cells_db.create_cell_mapping(cell_uuid, args.name, transport_url, db_url)
    except Exception as exc:  # noqa: BLE001 - Conflict on the name
        raise CommandError(str(exc))
    if args.disabled and hasattr(cells_db, "update_cell_mapping"):
        cells_db.update_cell_mapping(cell_uuid, disabled=True)
    if args.verbose:
        _out("Created cell %s (%s)" % (cell.get("name"), cell["uuid"]))
    _out(cell["uuid"])
    return EXIT_OK


def _cells(cells_db, cell_uuid=None):
    cells = cells_db.list_cell_mappings(include_cell0=False)
    if cell_uuid:
        cells = [c for c in cells if c["uuid"] == cell_uuid]
        if not cells:
            raise CommandError("Cell with uuid %s was not found." % cell_uuid)
    return cells


def cmd_discover_hosts(conf, args):
    """Map every compute host of every cell that has no host mapping."""
    from controlplane.db import cells as cells_db
    from controlplane.db import compute_nodes as cn_db
    from controlplane.db import engine as db_engine
    from controlplane.db import services as services_db
    mapped = {m["host"] for m in cells_db.list_host_mappings()}
    count = 0
    errors = 0
    for cell in _cells(cells_db, args.cell_uuid):
        if args.verbose:
            _out("Getting computes from cell '%s': %s" % (cell["name"], cell["uuid"]))
        engine = db_engine.cell_engine(cell)
        try:
            hosts = {s["host"] for s in services_db.list_services(
                engine, binary=services_db.COMPUTE_BINARY)}
            hosts.update(n["host"] for n in cn_db.get_compute_nodes(engine))
        except Exception as exc:  # noqa: BLE001
            print("ERROR: cannot read cell %s: %s" % (cell["name"], exc), file=sys.stderr)
            errors += 1
            continue
        new = sorted(hosts - mapped)
        if args.verbose:
            _out("Found %d unmapped computes in cell: %s" % (len(new), cell["uuid"]))
        for host in new:
            try:
                cells_db.map_host(host, cell["uuid"])
            except Exception as exc:  # noqa: BLE001 - mapped to another cell
                print("ERROR: %s" % exc, file=sys.stderr)
                errors += 1
                continue
            mapped.add(host)
            count += 1
            if args.verbose:
                _out("Checking host mapping for compute host '%s': created" % host)
    if args.verbose:
        _out("Mapped %d host(s)." % count)
    return EXIT_ERROR if errors else EXIT_OK


def cmd_list_cells(conf, args):
    from controlplane.db import cells as cells_db
    rows = []
    for c in cells_db.list_cell_mappings(include_cell0=True):
        t_url, d_url = c["transport_url"], c["database_connection"]
        if not args.verbose:
            t_url, d_url = mask_url(t_url), mask_url(d_url)
        rows.append([c["name"], c["uuid"], t_url, d_url, bool(c.get("disabled"))])
    rows.sort(key=lambda r: (r[0] or ""))
    _out(_table(["Name", "UUID", "Transport URL", "Database Connection", "Disabled"], rows))
    return EXIT_OK


def cmd_list_hosts(conf, args):
    from controlplane.db import cells as cells_db
    names = {c["uuid"]: c["name"] for c in cells_db.list_cell_mappings(include_cell0=True)}
    rows = [[names.get(m["cell_uuid"]), m["cell_uuid"], m["host"]]
            for m in cells_db.list_host_mappings()
            if not args.cell_uuid or m["cell_uuid"] == args.cell_uuid]
    _out(_table(["Cell Name", "Cell UUID", "Hostname"], rows))
    return EXIT_OK


# -- service ----------------------------------------------------------------------

def cmd_service_list(conf, args):
    from controlplane.db import engine as db_engine
    from controlplane.db import services as services_db
    try:
        from controlplane.db import cells as cells_db
        cells = cells_db.list_cell_mappings(include_cell0=False)
    except Exception as exc:  # noqa: BLE001
        LOG.debug("no cell mappings (%s); listing [database] connection only", exc)
        cells = []
    targets = [(c["name"], db_engine.cell_engine(c)) for c in cells] or \
        [("default", db_engine.cell_engine())]
    rows = []
    for name, engine in targets:
        for s in services_db.list_services(engine, binary=args.binary, host=args.host):
            rows.append([s["id"], s["binary"], s["host"], name,
                         "disabled" if s["disabled"] else "enabled",
                         "up" if s["up"] else "down", s["last_seen_up"],
                         s["disabled_reason"] or ""])
    _out(_table(["Id", "Binary", "Host", "Cell", "Status", "State", "Updated At",
                 "Disabled Reason"], rows))
    return EXIT_OK


# -- health checks (used by the OCF resource agents) -------------------------------

#: ``ping`` targets: topic → binary, for messages.
PING_TOPICS = {"conductor": "controlplane-conductor", "scheduler": "controlplane-scheduler",
               "volume-scheduler": "controlplane-volume-scheduler"}
#: Binaries whose heartbeat lives in ``volume_services`` (API database).
VOLUME_BINARIES = ("controlplane-volume", "controlplane-volume-scheduler")


def _full_binary(binary):
    """``compute`` → ``controlplane-compute``; full names are kept."""
    return binary if binary.startswith("controlplane-") else "controlplane-" + binary


def cmd_service_check(conf, args):
    """Exit 0 when the (host, binary) row of this host's cell database
    (``[database] connection``, where the service heartbeats) counts as up
    by :func:`controlplane.db.services.is_up` (Nova's DB servicegroup
    driver: not forced down, heartbeat at most ``service_down_time`` s
    old); with ``--since EPOCH`` the heartbeat must also be at or after
    that Unix time (a process started then has reported at least once).
    Exit 1 otherwise, the reason on stderr. Block-storage binaries: see
    :func:`_volume_service_check`."""
    import datetime
    from controlplane.db import engine as db_engine
    from controlplane.db import services as services_db
    binary = _full_binary(args.binary)
    if binary in VOLUME_BINARIES:
        return _volume_service_check(conf, args, binary)
    host = args.host or conf.host
    row = services_db.get_service_by_host_binary(db_engine.cell_engine(), host, binary)
    if row is None:
        raise CommandError("no service %s on host %s in %s" % (
            binary, host, mask_url(conf.database.connection)))
    last = row.get("last_seen_up")
    now = services_db.utcnow()
    age = "never" if last is None else "%.0f s ago" % (now - last).total_seconds()
    if row.get("forced_down"):
        raise CommandError("%s on %s is forced down" % (binary, host))
    if not row["up"]:
        raise CommandError("%s on %s is down: last heartbeat %s (service_down_time %d s)"
                           % (binary, host, age, conf.service_down_time))
    if args.since is not None:
        # last_seen_up may be stored without fractions of a second.
        since = datetime.datetime.fromtimestamp(int(args.since), datetime.timezone.utc) \
            .replace(tzinfo=None)
        if last is None or last < since:
            raise CommandError("%s on %s has not reported since %s UTC (last heartbeat %s)"
                               % (binary, host, since.isoformat(" "), age))
    _out("%s on %s is up: last heartbeat %s" % (binary, host, age))
    return EXIT_OK


def _volume_service_check(conf, args, binary):
    """``service check`` of a block-storage service, on its
    ``volume_services`` rows in the API database (Cinder's
    ``service.is_up``: heartbeat at most ``service_down_time`` s old; a
    disabled service is still up). ``controlplane-volume`` has one row per
    backend, ``<host>@<backend>``: every backend of ``[DEFAULT]
    enabled_backends`` must be up (``--host H@B`` checks that one only).
    ``--since`` as for the cell services."""
    import datetime
    from controlplane.db import engine as db_engine
    from controlplane.db import volume_services as vs_db
    host = args.host or conf.host
    if binary == "controlplane-volume" and "@" not in host:
        if not conf.enabled_backends:
            raise CommandError("[DEFAULT] enabled_backends is empty: no backend to check")
        hosts = ["%s@%s" % (host, backend) for backend in conf.enabled_backends]
    else:
        hosts = [host]
    engine = db_engine.api_engine()
    now = vs_db.utcnow()
    since = None
    if args.since is not None:
        since = datetime.datetime.fromtimestamp(int(args.since), datetime.timezone.utc) \
            .replace(tzinfo=None)
    report = []
    for name in hosts:
        try:
            row = vs_db.get_service(engine, name, binary)
        except vs_db.VolumeServiceNotFound:
            raise CommandError("no service %s on host %s in %s" % (
                binary, name, mask_url(conf.api_database.connection)))
        last = row.get("updated_at") or row.get("created_at")
        age = "never" if last is None else "%.0f s ago" % (now - last).total_seconds()
        if not row["up"]:
            raise CommandError("%s on %s is down: last heartbeat %s (service_down_time %d s)"
                               % (binary, name, age, conf.service_down_time))
        if since is not None and (last is None or last < since):
            raise CommandError("%s on %s has not reported since %s UTC (last heartbeat %s)"
                               % (binary, name, since.isoformat(" "), age))
        report.append("%s (last heartbeat %s)" % (name, age))
    _out("%s is up on %s" % (binary, ", ".join(report)))
    return EXIT_OK


def cmd_ping(conf, args):
    """RPC ``ping`` call to one service through RabbitMQ: to the server
    queue ``<topic>.<host>`` (default host: ``[DEFAULT] host``), or to the
    shared ``<topic>`` queue with ``--any``. Exit 0 when ``"pong"`` comes
    back within ``--timeout`` seconds, 1 otherwise (no queue, no reply in
    time, broker unreachable, error)."""
    from controlplane import context as context_mod
    from controlplane import rpc
    host = None if args.any else (args.host or conf.host)
    target = args.topic + ("." + host if host else "")
    client = rpc.RPCClient(conf.transport_url, args.topic, timeout=args.timeout)
    try:
        result = client.call(context_mod.RequestContext.admin(), "ping", server=host,
                             timeout=args.timeout)
    except rpc.MessageUndeliverable:
        raise CommandError("no queue %s: is %s running there?"
                           % (target, PING_TOPICS[args.topic]))
    except rpc.MessagingTimeout as exc:
        raise CommandError("no reply from %s: %s" % (target, exc))
    except rpc.MessagingException as exc:
        raise CommandError("ping of %s failed: %s: %s" % (target, type(exc).__name__, exc))
    finally:
        try:
            rpc.cleanup_transports()
        except Exception:  # noqa: BLE001 - best effort on the way out
            LOG.debug("transport cleanup failed", exc_info=True)
    if result != "pong":
        raise CommandError("%s answered %r instead of 'pong'" % (target, result))
    _out("pong from %s" % target)
    return EXIT_OK


# -- parser -------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog="controlplane-manage",
        description="Administration of the controlplane databases and cells v2 "
                    "(the commands of nova-manage).")
    parser.add_argument("--config-file", action="append", default=[], metavar="PATH",
                        help="oslo.config INI file; may be repeated "
                             "(default /etc/controlplane/controlplane.conf).")
    parser.add_argument("--debug", action="store_true", help="Log at DEBUG level.")
    cats = parser.add_subparsers(dest="category", metavar="CATEGORY")
    cats.required = True

    db = cats.add_parser("db", help="Cell database schema (and the API database first).")
    db_cmds = db.add_subparsers(dest="action", metavar="ACTION")
    db_cmds.required = True
    sync = db_cmds.add_parser("sync", help="Upgrade the API DB, then cell0, this cell "
                                           "and every mapped cell to the latest schema.")
    sync.add_argument("--cell0-connection", metavar="URL",
                      help="cell0 database URL when cell0 is not mapped yet (default: "
                           "[database] connection with '_cell0' appended).")
    sync.set_defaults(func=cmd_db_sync)

    api_db = cats.add_parser("api_db", help="API database schema.")
    api_cmds = api_db.add_subparsers(dest="action", metavar="ACTION")
    api_cmds.required = True
    api_cmds.add_parser("sync", help="Upgrade the API database.").set_defaults(
        func=cmd_api_db_sync)

    cell = cats.add_parser("cell_v2", help="Cells v2 mappings.")
    cell_cmds = cell.add_subparsers(dest="action", metavar="ACTION")
    cell_cmds.required = True
    m0 = cell_cmds.add_parser("map_cell0", help="Create the cell0 mapping.")
    m0.add_argument("--database_connection", "--database-connection",
                    dest="database_connection", metavar="URL",
                    help="cell0 database URL (default: [database] connection with "
                         "'_cell0' appended).")
    m0.set_defaults(func=cmd_map_cell0)
    cc = cell_cmds.add_parser("create_cell", help="Create a cell mapping; prints its uuid.")
    cc.add_argument("--name", help="Cell name, e.g. cell1.")
    cc.add_argument("--transport-url", "--transport_url", dest="transport_url",
                    metavar="URL", help="Cell message queue (default [DEFAULT] transport_url).")
    cc.add_argument("--database_connection", "--database-connection",
                    dest="database_connection", metavar="URL",
                    help="Cell database (default [database] connection).")
    cc.add_argument("--uuid", help="Cell uuid (default: a new one).")
    cc.add_argument("--disabled", action="store_true", help="Create the cell disabled.")
    cc.add_argument("--verbose", action="store_true")
    cc.set_defaults(func=cmd_create_cell)
    dh = cell_cmds.add_parser("discover_hosts",
                              help="Map every compute host without a host mapping.")
    dh.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid",
                    help="Only this cell.")
    dh.add_argument("--verbose", action="store_true", help="Say what is found and mapped.")
    dh.set_defaults(func=cmd_discover_hosts)
    lc = cell_cmds.add_parser("list_cells", help="List cell mappings.")
    lc.add_argument("--verbose", action="store_true", help="Show passwords in URLs.")
    lc.set_defaults(func=cmd_list_cells)
    lh = cell_cmds.add_parser("list_hosts", help="List host mappings.")
    lh.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid")
    lh.set_defaults(func=cmd_list_hosts)

    svc = cats.add_parser("service", help="Services of every cell.")
    svc_cmds = svc.add_subparsers(dest="action", metavar="ACTION")
    svc_cmds.required = True
    sl = svc_cmds.add_parser("list", help="List services with their state.")
    sl.add_argument("--host")
    sl.add_argument("--binary")
    sl.set_defaults(func=cmd_service_list)
    sc = svc_cmds.add_parser(
        "check", help="Exit 0 when the service's heartbeat is fresh (health check).")
    sc.add_argument("--binary", required=True,
                    help="e.g. controlplane-compute (or just compute); controlplane-volume "
                         "and -volume-scheduler are checked in volume_services.")
    sc.add_argument("--host", help="Host name (default [DEFAULT] host).")
    sc.add_argument("--since", type=float, metavar="EPOCH",
                    help="Also require a heartbeat at or after this Unix time.")
    sc.set_defaults(func=cmd_service_check)

    ping = cats.add_parser("ping", help="RPC ping of a conductor or (volume) scheduler "
                                        "through RabbitMQ; exit 0 on pong.")
    ping.add_argument("topic", choices=sorted(PING_TOPICS), help="Service to ping.")
    target = ping.add_mutually_exclusive_group()
    target.add_argument("--host", help="Server queue <topic>.<host> to ping "
                                       "(default [DEFAULT] host).")
    target.add_argument("--any", action="store_true",
                        help="Ping any server of the topic (shared queue).")
    ping.add_argument("--timeout", type=float, default=10.0, metavar="S",
                      help="Seconds to wait for the reply (default 10).")
    ping.set_defaults(func=cmd_ping)
    return parser


def main(argv=None):
    """Entry point; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    from controlplane import conf as conf_mod
    from controlplane import log
    cfg_args = []
    for path in args.config_file:
        cfg_args += ["--config-file", path]
    try:
        conf = conf_mod.parse_args(cfg_args, prog="controlplane-manage")
    except Exception as exc:  # noqa: BLE001 - bad config file
        print("ERROR: cannot read configuration: %s" % exc, file=sys.stderr)
        return EXIT_ERROR
    if args.debug:
        conf.set_override("debug", True)
    log.setup_logging(conf)
    try:
        return args.func(conf, args)
    except CommandError as exc:
        print("ERROR: %s" % exc, file=sys.stderr)
        return exc.code
    except Exception as exc:  # noqa: BLE001 - a clear message, not a traceback
        LOG.debug("command failed", exc_info=True)
        print("ERROR: %s: %s" % (type(exc).__name__, exc), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
