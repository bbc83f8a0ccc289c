"""Command line: ``python3 -m tools.devenv {deps,keystone,glance,up,down,status,env}``."""

import argparse
import json
import logging
import sys
import time

from . import api, config, outputs, proc

DESCRIPTION = f"""\
Local development environment of controlplane: real Keystone
(127.0.0.1:5000) and Glance (127.0.0.1:9292) on the shared MariaDB,
RabbitMQ and memcached. State (venvs, configs, secrets, logs, clouds.yaml,
devenv.json) lives in $CONTROLPLANE_DEV_DIR (default {config.DEFAULT_STATE_DIR}).
Every command is idempotent. Start with:  python3 -m tools.devenv up
"""

COMMANDS = {
    "deps": "apt-get install what is missing, start MariaDB/RabbitMQ/memcached "
            "if they do not answer, create venv and openstack-venv",
    "keystone": "Keystone DB, config, keys, bootstrap, server, projects, users, catalog",
    "glance": "Glance DB, config, server and the cirros / cirros-big images",
    "up": "deps + keystone + glance (the first run on a fresh machine takes a few minutes)",
    "down": "stop Keystone and Glance (never MariaDB, RabbitMQ or memcached)",
    "status": "show what runs and what is missing",
    "env": "print shell exports (eval \"$(python3 -m tools.devenv env)\")",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m tools.devenv", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_ in COMMANDS.items():
        sp = sub.add_parser(name, help=help_, description=help_)
        if name in ("deps", "up"):
            sp.add_argument("--no-repo-venv", action="store_true",
                            help="skip <state>/venv (the repo installed editable)")
    return p


def _setup_logging(verbose: bool) -> None:
    config.ensure_dir(config.path("logs"))
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.INFO)
    console.setFormatter(logging.Formatter("[devenv %(asctime)s] %(message)s", "%H:%M:%S"))
    root.addHandler(console)
    fileh = logging.FileHandler(config.log_path("devenv"))
    fileh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(fileh)


def main(argv=None) -> int:
    """Entry point; returns the exit status (1 with a message on DevenvError)."""
    args = _parser().parse_args(argv)
    if args.command == "env":
        info = outputs.load()
        if not info:
            print("devenv is not set up: run `python3 -m tools.devenv up`", file=sys.stderr)
            return 1
        sys.stdout.write(outputs.shell_exports(info))
        return 0
    _setup_logging(args.verbose)
    start = time.monotonic()
    try:
        if args.command == "deps":
            api.deps(repo_venv=not args.no_repo_venv)
        elif args.command == "keystone":
            api.setup_keystone()
        elif args.command == "glance":
            api.setup_glance()
        elif args.command == "up":
            api.up(repo_venv=not args.no_repo_venv)
        elif args.command == "down":
            stopped = api.down()
            print("stopped: " + (", ".join(stopped) or "nothing was running"))
        elif args.command == "status":
            for k, v in api.status().items():
                print(f"{k:15} {v}")
    except proc.DevenvError as exc:
        logging.getLogger("devenv").error("FAILED: %s", exc)
        return 1
    if proc.TIMINGS:
        print(json.dumps({"command": args.command,
                          "total_s": round(time.monotonic() - start, 1),
                          "steps_s": {k: round(v, 1) for k, v in proc.TIMINGS.items()}},
                         indent=1), file=sys.stderr)
    if args.command in ("up", "keystone", "glance"):
        print(f"ready: {config.path('devenv.json')} and {config.path('clouds.yaml')}; "
              f"eval \"$(python3 -m tools.devenv env)\"", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
