"""System dependencies: Debian packages and the shared servers.

MariaDB, RabbitMQ and memcached are *shared*: if one already answers on
its port it is used as it is (never installed over, restarted or stopped).
Otherwise its package is installed with apt-get (only what is missing) and
it is started: with systemd when PID 1 is systemd, else with the Debian
init script, else directly (start-stop-daemon / -detached / -d).
"""

import logging
import os
import sys
import time
from pathlib import Path

from . import config, mysql, proc

LOG = logging.getLogger(__name__)

# service -> (port, package providing the server, server binary)
SERVICES = {
    "mariadb": (config.MARIADB_PORT, "mariadb-server", "mariadbd"),
    "rabbitmq": (config.RABBIT_PORT, "rabbitmq-server", "rabbitmq-server"),
    "memcached": (config.MEMCACHED_PORT, "memcached", "memcached"),
}
# binary -> package, needed whatever runs
TOOLS = {"qemu-img": "qemu-utils", "mariadb": "mariadb-client",
         # tests/ocf: the Pacemaker resource agents (ocf.py, ocf-tester, DTD)
         "ocf-tester": "resource-agents", "xmllint": "libxml2-utils",
         # tests/ocf/test_vip_sockets.py: vip-sockets blocks new connections
         "nft": "nftables", "ss": "iproute2",
         # tests/ocf/test_fence_podman.py: fence-agents' fencing.py library
         "fence_virsh": "fence-agents"}


def missing_packages(base_python: str) -> list[str]:
    """Debian packages to install: servers that neither answer nor are
    installed, client tools that are absent, python3-venv if the base
    python cannot make a venv with pip."""
    pkgs = []
    for _name, (port, pkg, binary) in SERVICES.items():
        if not proc.port_open(port) and not proc.which(binary):
            pkgs.append(pkg)
    for binary, pkg in TOOLS.items():
        if not proc.which(binary) and pkg not in pkgs:
            pkgs.append(pkg)
    if proc.run([base_python, "-c", "import ensurepip, venv"],
                check=False, quiet=True).returncode != 0:
        pkgs.append("python3-venv")
    return pkgs


def apt_install(pkgs: list[str]) -> None:
    """apt-get update + install ``pkgs`` non-interactively (as root)."""
    if not pkgs:
        return
    if os.geteuid() != 0:
        raise proc.DevenvError(f"need root to apt-get install {' '.join(pkgs)}")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    LOG.info("apt-get install %s", " ".join(pkgs))
    proc.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update", "-q"], env=env, log_name="apt", timeout=600)
    proc.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "--no-install-recommends", *pkgs],
             env=env, log_name="apt", timeout=1200)


def _systemd() -> bool:
    return Path("/run/systemd/system").is_dir()


def _try_service(unit: str) -> bool:
    """Start ``unit`` with systemd or its init script; True if attempted."""
    systemctl, service = proc.which("systemctl"), proc.which("service")
    if _systemd() and systemctl:
        return proc.run([systemctl, "start", unit], check=False,
                        log_name="services", timeout=180).returncode == 0
    if Path(f"/etc/init.d/{unit}").exists() and service:
        return proc.run([service, unit, "start"], check=False,
                        log_name="services", timeout=180).returncode == 0
    return False


def _start_mariadb() -> None:
    if _try_service("mariadb"):
        return
    run_dir = Path("/run/mysqld")
    run_dir.mkdir(parents=True, exist_ok=True)
    proc.run(["chown", "mysql:mysql", str(run_dir)], check=False)
    if not Path("/var/lib/mysql/mysql").exists():
        installer = proc.which("mariadb-install-db") or proc.which("mysql_install_db")
        proc.run([installer, "--user=mysql", "--datadir=/var/lib/mysql"],
                 log_name="services")
    proc.run([proc.which("start-stop-daemon") or "start-stop-daemon", "--start", "--oknodo", "--background",
              "--exec", proc.which("mariadbd") or "/usr/sbin/mariadbd",
              "--", "--user=mysql", f"--bind-address={config.HOST}"],
             log_name="services")


def _start_rabbitmq() -> None:
    if _try_service("rabbitmq-server"):
        return
    proc.run([proc.which("rabbitmq-server"), "-detached"], log_name="services",
             env={"RABBITMQ_NODE_IP_ADDRESS": config.HOST})


def _start_memcached() -> None:
    if _try_service("memcached"):
        return
    proc.run([proc.which("memcached"), "-d", "-u", "memcache", "-l", config.HOST,
              "-p", str(config.MEMCACHED_PORT), "-m", "64"], log_name="services")


_STARTERS = {"mariadb": _start_mariadb, "rabbitmq": _start_rabbitmq,
             "memcached": _start_memcached}


def ensure_services() -> dict[str, str]:
    """Start every shared server that does not answer; wait for each.

    Returns {service: "running" | "started"}. Raises DevenvError when a
    server cannot be started (the message names its log).
    """
    result = {}
    for name, (port, _pkg, _binary) in SERVICES.items():
        if proc.port_open(port):
            result[name] = "running"
            continue
        LOG.info("%s is not answering on %s:%d; starting it", name, config.HOST, port)
        _STARTERS[name]()
        proc.wait_for(lambda p=port: proc.port_open(p), f"{name} on port {port}",
                      timeout=120, log_file=config.log_path("services"))
        result[name] = "started"
    ensure_mariadb_root()
    return result


def ensure_mariadb_root() -> None:
    """Make root log in over TCP without password (the house contract).

    A fresh Debian MariaDB authenticates root@localhost by unix socket
    only; as OS root we add password login with the configured (empty)
    password for root@localhost and root@127.0.0.1. Nothing is changed
    when TCP login already works.
    """
    deadline = time.monotonic() + 60
    while not mysql.root_tcp_works():
        if mysql.execute("SELECT 1", socket=True, check=False).returncode == 0:
            pw = config.DB_ROOT_PASSWORD
            LOG.info("enabling TCP password login for MariaDB root")
            mysql.execute(
                "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR "
                f"mysql_native_password USING PASSWORD('{pw}'); "
                f"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '{pw}'; "
                "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; "
                "FLUSH PRIVILEGES", socket=True)
            continue
        if time.monotonic() > deadline:
            raise proc.DevenvError(
                "cannot log in to MariaDB as root over TCP nor by socket; set "
                "CONTROLPLANE_DEV_DB_ROOT_PASSWORD to the root password")
        time.sleep(1)


def base_python() -> str:
    """Python used to create the venvs: $CONTROLPLANE_DEV_PYTHON, else
    /usr/bin/python3 (Debian's), else the interpreter running devenv."""
    env = os.environ.get("CONTROLPLANE_DEV_PYTHON")
    if env:
        return env
    if Path("/usr/bin/python3").exists():
        return "/usr/bin/python3"
    return getattr(sys, "_base_executable", None) or sys.executable
