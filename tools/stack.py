"""Run the controlplane services on this machine (before the HA lab exists).

    python3 -m tools.stack up       # db sync, cells, every service, a test boot
    python3 -m tools.stack down
    python3 -m tools.stack status

A *stack* is one set of controlplane processes with its own databases
(``<name>_api``, ``<name>_cell0``, ``<name>_cell1``), its own RabbitMQ
vhost and its own API port, against the devenv's Keystone and Glance
(``python3 -m tools.devenv up``). The default stack ``dev`` serves the
catalog's compute endpoint (port 8774) and block-storage endpoint (port
8776); the end-to-end tests run stacks on other ports side by side.

With ``volumes`` a stack also runs ``controlplane-volume-api``,
``controlplane-volume-scheduler`` and one ``controlplane-volume`` serving
:data:`VOLUME_BACKENDS`: ``fileback`` (``file`` driver on a share
directory of the stack, zone ``az1``) and ``second`` (``fake`` driver,
zone ``az2``). Files live in
``<state>/stacks/<name>/``: ``controlplane.conf`` (0600: it holds the
service password), ``logs/``, ``run/``.
"""
import argparse
import json
import logging
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from tools.devenv import config as dconfig
from tools.devenv import proc

LOG = logging.getLogger("stack")

SERVICES = ("api", "conductor", "scheduler")
VOLUME_SERVICES = ("volume-api", "volume-scheduler", "volume")
#: backend section -> its options (file_share_path is set per stack)
VOLUME_BACKENDS = {
    "fileback": {"volume_driver": "file", "volume_backend_name": "fileback",
                 "backend_availability_zone": "az1", "file_volume_format": "raw"},
    "second": {"volume_driver": "fake", "volume_backend_name": "second",
               "backend_availability_zone": "az2", "fake_capacity_gb": "500"},
}
CELL1_UUID = "c1c1c1c1-0000-4000-8000-000000000001"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _devenv_info():
    f = dconfig.path("devenv.json")
    if not f.exists():
        raise proc.DevenvError(f"{f} is missing: run `python3 -m tools.devenv up` first")
    return json.loads(f.read_text())


class Stack:
    """One set of controlplane processes; see the module docstring.

    :param name: stack name, also the prefix of its databases and its vhost.
    :param api_port: TCP port of controlplane-api on 127.0.0.1.
    :param computes: compute host names, one controlplane-compute each.
    :param extra_conf: ``{section: {option: value}}`` merged into the config.
    :param compute_conf: ``{host: {section: {option: value}}}`` for one
        compute host only (e.g. a bigger fake host).
    :param volumes: also run the block-storage services (see the module
        docstring); :param volume_api_port: port of controlplane-volume-api.
    """

    def __init__(self, name="dev", api_port=8774, computes=("compute1", "compute2"),
                 extra_conf=None, compute_conf=None, venv_bin=None, volumes=False,
                 volume_api_port=8776):
        self.name = name
        self.api_port = api_port
        self.volumes = volumes
        self.volume_api_port = volume_api_port
        self.computes = list(computes)
        self.extra_conf = extra_conf or {}
        self.compute_conf = compute_conf or {}
        self.dir = dconfig.ensure_dir(dconfig.path("stacks", name))
        self.bin = Path(venv_bin or Path(sys.executable).parent)
        self.info = _devenv_info()

    # ----------------------------------------------------------- config
    @property
    def mysql(self):
        return self.info.get("mysql_root_url", "mysql+pymysql://root@127.0.0.1")

    def db_url(self, which):
        return "%s/%s_%s" % (self.mysql.rstrip("/"), self.name, which)

    @property
    def transport_url(self):
        """The devenv's transport_url with this stack's vhost as its path."""
        base = urllib.parse.urlsplit(
            self.info.get("transport_url", "rabbit://guest:guest@127.0.0.1:5672/"))
        return urllib.parse.urlunsplit(base._replace(path="/" + self.vhost))

    @property
    def vhost(self):
        return "controlplane_" + self.name

    @property
    def api_url(self):
        return "http://127.0.0.1:%d/v2.1" % self.api_port

    @property
    def volume_url(self):
        """The Block Storage API root (``/v3/<project_id>`` is below it)."""
        return "http://127.0.0.1:%d" % self.volume_api_port

    @property
    def volume_share(self):
        """The share directory of the ``file`` backend."""
        return self.dir / "volumes" / "fileback"

    @property
    def services(self):
        """Every non-compute service of the stack, in start order."""
        return SERVICES + (VOLUME_SERVICES if self.volumes else ())

    @property
    def conf_file(self):
        return self.dir / "controlplane.conf"

    def config_sections(self):
        authtoken = {k: ("true" if v is True else v)
                     for k, v in self.info["keystone_authtoken"].items() if v is not None}
        sections = {
            "DEFAULT": {"transport_url": self.transport_url, "debug": "false",
                        "report_interval": "2", "service_down_time": "20"},
            "api_database": {"connection": self.db_url("api")},
            "database": {"connection": self.db_url("cell1")},
            "api": {"bind_host": "127.0.0.1", "bind_port": str(self.api_port),
                    "workers": "2", "threads": "8"},
            "glance": {"api_servers": self.info["glance"]["url"]},
            "rate_limit": {"storage_uri": "memory://", "limit": "100000/minute"},
            "keystone_authtoken": authtoken,
            "compute": {"resource_update_interval": "5"},
        }
        if self.volumes:
            sections["DEFAULT"].update(enabled_backends=",".join(VOLUME_BACKENDS),
                                       storage_availability_zone="az1",
                                       image_conversion_dir=str(self.dir / "conversion"))
            sections["volume_api"] = {"bind_host": "127.0.0.1",
                                      "bind_port": str(self.volume_api_port),
                                      "workers": "2", "threads": "8"}
            for backend, values in VOLUME_BACKENDS.items():
                sections[backend] = dict(values)
            sections["fileback"]["file_share_path"] = str(self.volume_share)
        for section, values in self.extra_conf.items():
            sections.setdefault(section, {}).update(values)
        return sections

    @staticmethod
    def _ini(sections):
        lines = []
        for section, values in sections.items():
            lines.append("[%s]" % section)
            lines.extend("%s = %s" % (k, v) for k, v in values.items())
            lines.append("")
        return "\n".join(lines)

    def write_config(self):
        """Write controlplane.conf and one small override file per compute host."""
        dconfig.write_private(self.conf_file, self._ini(self.config_sections()))
        for host in self.computes:
            sections = {"DEFAULT": {"host": host}}
            for section, values in self.compute_conf.get(host, {}).items():
                sections.setdefault(section, {}).update(values)
            dconfig.write_private(self.dir / ("compute-%s.conf" % host), self._ini(sections))

    # ----------------------------------------------------------- set-up
    def _manage(self, *args):
        return proc.run([self.bin / "controlplane-manage", "--config-file", self.conf_file,
                         *args], log_name="stack-%s-manage" % self.name,
                        env={"PYTHONPATH": str(REPO_ROOT)})

    def _rabbitmqctl(self, *args, check=True):
        exe = proc.which("rabbitmqctl")
        if exe is None:
            raise proc.DevenvError("rabbitmqctl not found: is RabbitMQ installed?")
        return proc.run([exe, "-q", *args], check=check, quiet=True)

    def prepare(self):
        """Config, vhost, ``db sync`` and the cell mappings (idempotent)."""
        with proc.step("stack %s: config, vhost, db sync, cells" % self.name):
            if self.volumes:
                self.volume_share.mkdir(parents=True, exist_ok=True)
                (self.dir / "conversion").mkdir(parents=True, exist_ok=True)
            self.write_config()
            self._rabbitmqctl("add_vhost", self.vhost, check=False)
            self._rabbitmqctl("set_permissions", "-p", self.vhost,
                              self.info.get("rabbit_user", "guest"), ".*", ".*", ".*")
            self._manage("api_db", "sync")
            self._manage("cell_v2", "map_cell0", "--database_connection",
                         self.db_url("cell0"))
            self._manage("db", "sync")
            if CELL1_UUID not in self._manage("cell_v2", "list_cells").stdout:
                self._manage("cell_v2", "create_cell", "--name", "cell1", "--uuid",
                             CELL1_UUID, "--transport-url", self.transport_url,
                             "--database_connection", self.db_url("cell1"))

    def drop(self):
        """Drop the stack's databases and vhost (the stack must be down)."""
        import sqlalchemy as sa
        engine = sa.create_engine(self.mysql.rstrip("/") + "/", poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            for which in ("api", "cell0", "cell1"):
                conn.execute(sa.text("DROP DATABASE IF EXISTS `%s_%s`" % (self.name, which)))
        engine.dispose()
        self._rabbitmqctl("delete_vhost", self.vhost, check=False)
        if self.volumes and self.volume_share.exists():
            import shutil
            shutil.rmtree(self.volume_share, ignore_errors=True)

    # ----------------------------------------------------------- processes
    def _proc_name(self, service, host=None):
        return "stack-%s-%s%s" % (self.name, service, "-" + host if host else "")

    def _start(self, service, host=None):
        name = self._proc_name(service, host)
        if proc.read_pid(name):
            return
        exe = self.bin / ("controlplane-" + service)
        if exe.exists():
            cmd = [exe, "--config-file", self.conf_file]
        else:   # a console script the venv was installed without: run its module
            module = "controlplane.cmd." + service.replace("-", "_")
            cmd = [self.bin / "python", "-c", "import sys; from %s import main; "
                   "sys.argv[0] = 'controlplane-%s'; sys.exit(main())" % (module, service),
                   "--config-file", self.conf_file]
        if host:
            cmd += ["--config-file", self.dir / ("compute-%s.conf" % host)]
        # Run this checkout's code whatever checkout the venv was installed from.
        proc.start_daemon(name, cmd, env={"PYTHONPATH": str(REPO_ROOT)})

    def start(self, expect_hosts=None):
        """Start api, conductor, scheduler and one compute per host; wait
        until the API answers and every compute host is mapped.

        :param expect_hosts: host names to wait for (default: ``computes``;
            a fake compute presenting several hosts maps each of them).
        """
        expect = set(expect_hosts or self.computes)
        with proc.step("stack %s: start services" % self.name):
            for service in self.services:
                self._start(service)
            for host in self.computes:
                self._start("compute", host)
            proc.wait_for(lambda: proc.http_get(self.api_url) is not None and
                          proc.http_get(self.api_url)[0] == 200,
                          "controlplane-api on %s" % self.api_url, timeout=60,
                          log_file=dconfig.log_path(self._proc_name("api")))
            if self.volumes:
                proc.wait_for(lambda: (proc.http_get(self.volume_url + "/") or (0,))[0] == 300,
                              "controlplane-volume-api on %s" % self.volume_url, timeout=60,
                              log_file=dconfig.log_path(self._proc_name("volume-api")))
                proc.wait_for(self._volume_backends_up, "volume backends %s up"
                              % ", ".join(VOLUME_BACKENDS), timeout=60,
                              log_file=dconfig.log_path(self._proc_name("volume")))
            deadline = time.monotonic() + 60
            while not expect <= self.mapped_hosts():
                if time.monotonic() > deadline:
                    raise proc.DevenvError("compute hosts %s did not register; see %s"
                                           % (sorted(expect), dconfig.path("logs")))
                self._manage("cell_v2", "discover_hosts")
                time.sleep(1)

    def mapped_hosts(self):
        """Hosts that have a host mapping in the stack's API database."""
        import sqlalchemy as sa
        engine = sa.create_engine(self.db_url("api"), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return {r[0] for r in conn.execute(sa.text("SELECT host FROM host_mappings"))}
        finally:
            engine.dispose()

    def _volume_backends_up(self):
        """True when every backend reported its pools."""
        import sqlalchemy as sa
        engine = sa.create_engine(self.db_url("api"), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                backends = {r[0] for r in conn.execute(sa.text(
                    "SELECT DISTINCT backend FROM volume_pools"))}
        except sa.exc.DBAPIError:
            return False
        finally:
            engine.dispose()
        return set(VOLUME_BACKENDS) <= backends

    def stop(self):
        """Stop every process of the stack (SIGTERM, then SIGKILL)."""
        for host in self.computes:
            proc.stop_daemon(self._proc_name("compute", host))
        for service in reversed(SERVICES + VOLUME_SERVICES):
            proc.stop_daemon(self._proc_name(service))

    def status(self):
        """``{process name: pid or None}``."""
        names = [self._proc_name(s) for s in self.services] + [
            self._proc_name("compute", h) for h in self.computes]
        return {n: proc.read_pid(n) for n in names}

    def pid(self, service, host=None):
        return proc.read_pid(self._proc_name(service, host))

    def kill(self, service, host=None, sig=9):
        pid = self.pid(service, host)
        if pid:
            os.killpg(pid, sig)
        return pid

    def restart(self, service, host=None):
        self._start(service, host)


def _smoke(stack):
    """Boot one server with the openstack CLI as demo and wait for ACTIVE."""
    clouds = dconfig.path("clouds.yaml")
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds))
    osc = [str(stack.bin / "openstack")]
    admin = osc + ["--os-cloud", "admin"]
    demo = osc + ["--os-cloud", "demo"]
    with proc.step("smoke: flavor m1.tiny and a server booted as demo"):
        res = subprocess.run(admin + ["flavor", "show", "m1.tiny"], env=env,
                             capture_output=True, text=True)
        if res.returncode != 0:
            subprocess.run(admin + ["flavor", "create", "--vcpus", "1", "--ram", "512",
                                    "--disk", "1", "m1.tiny"], env=env, check=True,
                           capture_output=True, text=True)
        name = "smoke-%d" % int(time.time())
        subprocess.run(demo + ["server", "create", "--flavor", "m1.tiny", "--image",
                               "cirros", "--nic", "none", "--wait", name],
                       env=env, check=True, capture_output=True, text=True, timeout=120)
        out = subprocess.run(demo + ["server", "show", name, "-f", "value", "-c", "status"],
                             env=env, check=True, capture_output=True, text=True).stdout
        LOG.info("server %s is %s", name, out.strip())
        return name, out.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m tools.stack",
        description="Run the controlplane services on this machine against the "
                    "devenv's Keystone, Glance, MariaDB and RabbitMQ.")
    parser.add_argument("action", choices=["up", "down", "status", "drop"],
                        help="up: prepare and start (then boot a test server); "
                             "down: stop the processes; status: show them; "
                             "drop: delete the stack's databases and vhost")
    parser.add_argument("--name", default="dev", help="stack name (default: dev)")
    parser.add_argument("--api-port", type=int, default=8774)
    parser.add_argument("--computes", default="compute1,compute2",
                        help="comma-separated compute host names")
    parser.add_argument("--no-smoke", action="store_true",
                        help="do not boot a test server after `up`")
    parser.add_argument("--volume-api-port", type=int, default=8776)
    parser.add_argument("--no-volumes", action="store_true",
                        help="do not run the block-storage services")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        stack = Stack(args.name, args.api_port, args.computes.split(","),
                      volumes=not args.no_volumes, volume_api_port=args.volume_api_port)
        if args.action == "up":
            stack.prepare()
            stack.start()
            if not args.no_smoke:
                name, status = _smoke(stack)
                if status != "ACTIVE":
                    raise proc.DevenvError("smoke server %s is %s" % (name, status))
            print("\ncontrolplane is up: compute API %s%s\n"
                  "  export OS_CLIENT_CONFIG_FILE=%s\n"
                  "  openstack --os-cloud demo server list\n"
                  "  logs: %s" % (stack.api_url,
                                  (", block storage API %s/v3" % stack.volume_url
                                   if stack.volumes else ""),
                                  dconfig.path("clouds.yaml"), dconfig.path("logs")))
        elif args.action == "down":
            stack.stop()
        elif args.action == "drop":
            stack.stop()
            stack.drop()
        else:
            for name, pid in stack.status().items():
                print("%-40s %s" % (name, pid or "not running"))
    except proc.DevenvError as exc:
        LOG.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
