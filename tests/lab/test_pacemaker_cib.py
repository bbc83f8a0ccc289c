"""The CIB that site.yml declares (roles/pacemaker templates, applied by the
galera, rabbitmq, haproxy/pacemaker and controlplane roles): Galera as a
promotable clone of resource-agents' `galera` agent promoted on every
controller, RabbitMQ as a clone of its unit, api/conductor/scheduler as
clones of our OCF agents ordered after Galera's promotion and RabbitMQ's
start, the VIP with the HAProxy clone; the systemd units of what Pacemaker
runs are disabled; `crm_verify -L -V` is clean. Read-only.

    PYTEST_ADDOPTS= /var/lib/controlplane-lab/ansible-venv/bin/pytest -p no:cacheprovider \\
        --confcutdir=tests/lab -m lab tests/lab/test_pacemaker_cib.py -v
"""
import pytest

from tests.lab import pacemaker_lab as pl

pytestmark = pytest.mark.lab

CLONES = ("galera-clone", "rabbitmq-clone", "haproxy-clone",
          "cp-api-clone", "cp-conductor-clone", "cp-scheduler-clone")


@pytest.fixture(scope="module")
def status(lab):
    pl.wait_settled(timeout=300)
    return pl.crm_status()


def test_crm_verify_clean(lab):
    rc, out = pl.sh("ctl1", "crm_verify -L -V")
    assert rc == 0, out
    assert "error" not in out.lower() and "warning" not in out.lower(), out


@pytest.mark.parametrize("clone", CLONES)
def test_clone_runs_on_every_controller(status, clone):
    nodes = status.get(clone, {})
    assert sorted(nodes) == sorted(pl.CONTROLLERS), status


def test_galera_promoted_on_every_controller(status):
    assert set(status["galera-clone"].values()) == {"Promoted"}, status["galera-clone"]


def test_galera_is_a_promotable_clone_of_the_galera_agent(lab):
    clone = pl.cib_element("resources", "galera-clone")
    meta = {nv.get("name"): nv.get("value") for nv in clone.iter("nvpair")}
    assert meta["promotable"] == "true"
    assert meta["promoted-max"] == "3"
    prim = clone.find("primitive")
    assert (prim.get("class"), prim.get("provider"), prim.get("type")) == ("ocf", "heartbeat", "galera")
    assert meta["wsrep_cluster_address"].startswith("gcomm://")
    assert meta["cluster_host_map"].count(":") == 3


@pytest.mark.parametrize("service", ["api", "conductor", "scheduler"])
def test_services_ordered_after_galera_and_rabbitmq(lab, service):
    orders = pl.cib_section("constraints").findall("rsc_order")
    pairs = {(o.get("first"), o.get("first-action"), o.get("then"), o.get("kind"),
              o.get("symmetrical")) for o in orders}
    clone = "cp-%s-clone" % service
    # Starts only: a crash of the node's Galera or RabbitMQ does not stop
    # the node's services (they reach both through the VIP / every host).
    assert ("galera-clone", "promote", clone, "Mandatory", "false") in pairs
    assert ("rabbitmq-clone", "start", clone, "Mandatory", "false") in pairs
    # clone-min=1 on the first clones: Galera promoted and RabbitMQ started
    # on any controller satisfy the orders, so a rejoining node need not
    # wait for its own Galera.
    for first in ("galera-clone", "rabbitmq-clone"):
        meta = {nv.get("name"): nv.get("value")
                for nv in pl.cib_element("resources", first).find("meta_attributes").iter("nvpair")}
        assert meta.get("clone-min") == "1", (first, meta)


def test_vip_sockets_runs_with_the_vip_and_stops_before_it(status):
    """ocf:controlplane:vip-sockets resets the VIP's connections on stop:
    it must run where the VIP is and stop before the VIP (order VIP then
    it, symmetrical by default)."""
    assert list(status.get("vip-sockets", {})) == list(status["vip"]), status
    prim = pl.cib_element("resources", "vip-sockets")
    assert (prim.get("class"), prim.get("provider"), prim.get("type")) == \
        ("ocf", "controlplane", "vip-sockets")
    constraints = pl.cib_section("constraints")
    assert any(c.get("rsc") == "vip-sockets" and c.get("with-rsc") == "vip"
               and c.get("score") == "INFINITY" for c in constraints.findall("rsc_colocation"))
    assert any(o.get("first") == "vip" and o.get("then") == "vip-sockets"
               and o.get("kind") == "Mandatory" and o.get("symmetrical") in (None, "true")
               for o in constraints.findall("rsc_order"))


def test_resource_defaults_set_on_purpose(lab):
    defaults = {nv.get("name"): nv.get("value") for nv in pl.cib_section("rsc_defaults").iter("nvpair")}
    assert defaults["resource-stickiness"] == "100"
    assert defaults["migration-threshold"] == "3"
    assert defaults["failure-timeout"] == "60s"


@pytest.mark.parametrize("name", pl.CONTROLLERS)
def test_pacemaker_managed_units_disabled_in_systemd(lab, name):
    for unit in ("mariadb", "rabbitmq-server", "haproxy"):
        rc, out = pl.sh(name, "systemctl is-enabled %s" % unit)
        assert out.strip() in ("disabled", "masked"), (unit, out)
    for service in ("api", "conductor", "scheduler"):
        rc, _ = pl.sh(name, "test -e /etc/systemd/system/controlplane-%s.service" % service)
        assert rc != 0, "controlplane-%s has a systemd unit on %s" % (service, name)


@pytest.mark.parametrize("name", pl.CONTROLLERS)
def test_galera_synced_in_three_node_primary_component(lab, name):
    assert pl.galera_state(name) == "3 Primary Synced"


def test_compute_stays_under_systemd(lab):
    for name in pl.COMPUTES:
        rc, out = pl.sh(name, "systemctl is-active controlplane-compute")
        assert out.strip() == "active", name
