"""The lab after playbooks/infra.yml: Galera, RabbitMQ and memcached
clusters on the three controllers, reachable from the host and from each
other with the deploy-time credentials."""
import json
import socket
import urllib.request

import pytest

pytestmark = pytest.mark.lab

SERVICE_DATABASES = ("controlplane_api", "controlplane_cell0", "controlplane_cell1",
                     "keystone", "glance")


def _wsrep(host, name):
    return host.check_output(
        "mysql -NBe \"SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
        "WHERE VARIABLE_NAME = '%s'\"" % name.upper())


@pytest.mark.parametrize("name", ["ctl1", "ctl2", "ctl3"])
def test_galera_node_synced_in_three_node_cluster(lab_host, name):
    host = lab_host(name)
    assert _wsrep(host, "wsrep_cluster_size") == "3"
    assert _wsrep(host, "wsrep_local_state_comment") == "Synced"
    assert _wsrep(host, "wsrep_cluster_status") == "Primary"


def test_galera_nodes_share_one_cluster(lab_host):
    uuids = {_wsrep(lab_host(n), "wsrep_cluster_state_uuid") for n in ("ctl1", "ctl2", "ctl3")}
    assert len(uuids) == 1


def test_clustercheck_answers_200_on_every_controller(lab):
    for name, address in lab["controllers"].items():
        with urllib.request.urlopen("http://%s:9200/" % address, timeout=5) as resp:
            assert resp.status == 200, name
            assert b"Synced" in resp.read()


def test_service_user_logs_in_across_nodes(lab_host, secret):
    """controlplane's account, created once, works on another node's server."""
    password = secret("mysql_controlplane")
    out = lab_host("ctl2").check_output(
        "mysql -h 10.77.0.13 -u controlplane -p'%s' -NBe 'SHOW DATABASES'" % password)
    for db in ("controlplane_api", "controlplane_cell0", "controlplane_cell1"):
        assert db in out.split()


def test_write_on_one_node_is_read_on_another(lab_host, secret):
    password = secret("mysql_controlplane")
    sql = "mysql -h %s -u controlplane -p'" + password + "' controlplane_cell1 -NBe \"%s\""
    a, b = lab_host("ctl1"), lab_host("ctl3")
    a.check_output(sql % ("10.77.0.11", "CREATE TABLE IF NOT EXISTS lab_probe (k INT PRIMARY KEY, v INT); "
                          "REPLACE INTO lab_probe VALUES (1, 42)"))
    try:
        assert b.check_output(sql % ("10.77.0.13", "SELECT v FROM lab_probe WHERE k = 1")) == "42"
    finally:
        a.check_output(sql % ("10.77.0.11", "DROP TABLE IF EXISTS lab_probe"))


def test_service_databases_exist(lab_host):
    dbs = lab_host("ctl3").check_output("mysql -NBe 'SHOW DATABASES'").split()
    for name in SERVICE_DATABASES:
        assert name in dbs


@pytest.mark.parametrize("name", ["ctl1", "ctl2", "ctl3"])
def test_rabbitmq_three_running_nodes(lab_host, name):
    status = json.loads(lab_host(name).check_output("rabbitmqctl cluster_status --formatter json"))
    assert sorted(status["running_nodes"]) == ["rabbit@ctl1", "rabbit@ctl2", "rabbit@ctl3"]
    assert not status["partitions"]
    # roles/rabbitmq's net_ticktime: a lost peer is declared down in ~10 s
    assert lab_host(name).check_output(
        "rabbitmqctl eval 'net_kernel:get_net_ticktime().'").strip() == "10"


def test_rabbitmq_service_user_and_vhost(lab_host, secret):
    host = lab_host("ctl2")
    host.check_output("rabbitmqctl authenticate_user controlplane '%s'" % secret("rabbitmq_controlplane"))
    vhosts = json.loads(host.check_output(
        "rabbitmqctl list_vhosts name default_queue_type --formatter json --quiet"))
    assert {"name": "controlplane", "default_queue_type": "quorum"} in vhosts
    users = {u["user"] for u in json.loads(host.check_output("rabbitmqctl list_users --formatter json --quiet"))}
    assert "guest" not in users


def test_rabbitmq_amqp_port_reachable_from_host(lab):
    """An AMQP 0-9-1 protocol header is answered with a Connection.Start frame."""
    for name, address in lab["controllers"].items():
        with socket.create_connection((address, 5672), timeout=5) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            frame = sock.recv(7)
        assert frame[:1] == b"\x01", name  # method frame


def test_memcached_listens_on_lab_addresses(lab):
    for name, address in lab["controllers"].items():
        with socket.create_connection((address, 11211), timeout=5) as sock:
            sock.sendall(b"version\r\n")
            assert sock.recv(64).startswith(b"VERSION "), name


def test_computes_carry_no_infra_services(lab_host):
    host = lab_host("cmp1")
    for unit in ("mariadb", "rabbitmq-server", "memcached"):
        assert not host.service(unit).is_running


def test_etc_hosts_names_every_lab_host(lab_host, lab):
    hosts = lab_host("cmp2").file("/etc/hosts").content_string
    for name, address in {**lab["controllers"], **lab["computes"]}.items():
        assert "%s %s" % (address, name) in hosts
