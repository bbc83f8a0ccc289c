"""The example production inventory (inventories/example) drives the same
playbooks as the lab, over SSH, without edits: checked without any real
machine.

- `ansible-inventory --graph/--list`: three controllers, N computes, the
  infrastructure groups on the controllers, every host reached over SSH;
- `ansible-playbook playbooks/site.yml --syntax-check` and `--list-tasks`;
- every role's argument spec (meta/argument_specs.yml) validated for every
  host of its play with the inventory's variables: site.yml runs with only
  the `always`-tagged tasks (the validation Ansible puts first in each role,
  which templates every specified variable on the Ansible controller and
  connects to no host), after a play that gives each host the one fact the
  roles' defaults read (default_ipv4, from `controlplane_address` or a
  documentation address). Secrets go to a temporary directory, where the
  operator-supplied BMC password file is put first, as the inventory says.
- the same check fails on a copy of the inventory without
  `controlplane_vip`, so it does catch a missing variable.

Needs the lab's Ansible venv (tools/lab/venv.sh); skipped without it.
Run: /var/lib/controlplane-lab/ansible-venv/bin/pytest -p no:cacheprovider \
       --confcutdir=tests/lab -m lab tests/lab/test_inventory_example.py
"""
import json
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.lab

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INVENTORY = os.path.join(ROOT, "inventories", "example")
SITE = os.path.join(ROOT, "playbooks", "site.yml")
VENV_BIN = os.path.join(os.environ.get("LAB_DIR", "/var/lib/controlplane-lab"), "ansible-venv", "bin")
# Runs nothing but the tasks tagged `always` (the roles' argument validation).
NO_SUCH_TAG = "inventory-check-only"

FACTS_PLAY = """---
- name: The fact the roles' defaults read, as a real host would report it
  hosts: all
  gather_facts: false
  tasks:
    - name: Default IPv4 address of the host
      ansible.builtin.set_fact:
        ansible_default_ipv4:
          address: "{{{{ controlplane_address | default('198.51.100.200') }}}}"
          interface: eth0
        cacheable: true
      tags: [always]

- name: The deployment
  ansible.builtin.import_playbook: {site}
"""


def _tool(name):
    path = os.path.join(VENV_BIN, name)
    if os.access(path, os.X_OK):
        return path
    found = shutil.which(name)
    if not found:
        pytest.skip("%s not found: the lab's Ansible venv (tools/lab/venv.sh)" % name)
    return found


def _env(tmp_path):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": os.path.join(ROOT, "roles"),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        # No implicit fact gathering: no host is contacted.
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
    })
    return env


def _run(tmp_path, *argv):
    return subprocess.run(list(argv), cwd=ROOT, env=_env(tmp_path), capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inventory")
    proc = _run(tmp, _tool("ansible-inventory"), "-i", INVENTORY, "--list")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _hosts(inv, group):
    """Every host of a group, children included."""
    entry = inv.get(group, {})
    hosts = set(entry.get("hosts", []))
    for child in entry.get("children", []):
        hosts |= _hosts(inv, child)
    return hosts


def test_graph(tmp_path):
    proc = _run(tmp_path, _tool("ansible-inventory"), "-i", INVENTORY, "--graph")
    assert proc.returncode == 0, proc.stderr
    for group in ("@controllers:", "@computes:", "@galera:", "@rabbitmq:", "@memcached:"):
        assert group in proc.stdout


def test_three_controllers_and_computes(inventory):
    controllers = _hosts(inventory, "controllers")
    assert len(controllers) == 3
    assert len(_hosts(inventory, "computes")) >= 1
    # Galera and RabbitMQ quorum, memcached next to them: on the controllers.
    for group in ("galera", "rabbitmq", "memcached"):
        assert _hosts(inventory, group) == controllers, group


def test_every_host_over_ssh(inventory):
    hostvars = inventory["_meta"]["hostvars"]
    for host in _hosts(inventory, "all"):
        assert hostvars.get(host, {}).get("ansible_connection", "ssh") == "ssh", host
    for host in _hosts(inventory, "controllers"):
        # Services bind to, and the cluster members reach each other on,
        # an address the inventory fixes.
        assert hostvars[host].get("controlplane_address"), host


def test_site_syntax(tmp_path):
    proc = _run(tmp_path, _tool("ansible-playbook"), "-i", INVENTORY, SITE, "--syntax-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_site_list_tasks(tmp_path):
    proc = _run(tmp_path, _tool("ansible-playbook"), "-i", INVENTORY, SITE, "--list-tasks")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for role in ("common", "galera", "rabbitmq", "memcached", "haproxy", "pacemaker",
                 "keystone", "glance", "controlplane"):
        assert "%s : " % role in proc.stdout, role


def _check_argument_specs(tmp_path, inventory_dir):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    # inventories/example reads the BMC password from a file the operator
    # puts in the secrets directory.
    bmc = secrets / "bmc_password"
    bmc.write_text("not-a-real-password\n")
    bmc.chmod(0o600)
    playbook = tmp_path / "check.yml"
    playbook.write_text(FACTS_PLAY.format(site=SITE))
    return _run(tmp_path, _tool("ansible-playbook"), "-i", str(inventory_dir), str(playbook),
                "--tags", NO_SUCH_TAG, "-e", "controlplane_secrets_dir=%s" % secrets)


def test_every_role_variable_resolves_for_its_hosts(tmp_path, inventory):
    proc = _check_argument_specs(tmp_path, INVENTORY)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    # Every role's validation ran, and for every host of its play.
    for role, group in (("common", "all"), ("galera", "galera"), ("rabbitmq", "rabbitmq"),
                        ("memcached", "memcached"), ("haproxy", "controllers"),
                        ("pacemaker", "controllers"), ("keystone", "controllers"),
                        ("glance", "controllers"), ("controlplane", "all")):
        assert "TASK [%s : Validating arguments against arg spec" % role in out, role
    summary = {line.split()[0]: line for line in out.splitlines() if " : ok=" in line}
    assert set(summary) == _hosts(inventory, "all")
    for host, line in summary.items():
        assert " failed=0 " in line and " unreachable=0 " in line, line


def test_a_missing_variable_is_caught(tmp_path):
    broken = tmp_path / "inventory"
    shutil.copytree(INVENTORY, broken)
    all_yml = broken / "group_vars" / "all.yml"
    lines = all_yml.read_text().splitlines(True)
    all_yml.write_text("".join(l for l in lines if not l.startswith("controlplane_vip:")))
    proc = _check_argument_specs(tmp_path, broken)
    assert proc.returncode != 0
    assert "controlplane_vip" in proc.stdout + proc.stderr
