"""Verify roles/galera: a 3-node cluster, every node Synced, service
databases and users present, health check answering 200."""


def _status(host, name):
    return host.check_output(
        "mysql -NBe \"SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
        "WHERE VARIABLE_NAME = '%s'\"" % name.upper())


def test_cluster_size_is_three(host):
    assert _status(host, "wsrep_cluster_size") == "3"


def test_node_synced_in_primary(host):
    assert _status(host, "wsrep_local_state_comment") == "Synced"
    assert _status(host, "wsrep_cluster_status") == "Primary"


def test_mariadb_socket_unit_disabled(host):
    # Masked: testinfra's is_enabled cannot read that state, systemctl can.
    state = host.run("systemctl is-enabled mariadb.socket").stdout.strip()
    assert state == "masked"
    assert host.service("mariadb").is_enabled


def test_service_databases(host):
    dbs = host.check_output("mysql -NBe 'SHOW DATABASES'").split()
    for name in ("controlplane_api", "controlplane_cell0", "controlplane_cell1",
                 "keystone", "glance"):
        assert name in dbs


def test_service_users(host):
    users = host.check_output("mysql -NBe \"SELECT CONCAT(user, '@', host) FROM mysql.user\"").split()
    for name in ("controlplane@%", "keystone@%", "glance@%", "clustercheck@localhost"):
        assert name in users


def test_clustercheck_answers_200(host):
    address = host.check_output("hostname -I").split()[0]
    code = host.check_output("python3 -c \"import urllib.request as u; "
                             "print(u.urlopen('http://%s:9200/').status)\"" % address)
    assert code == "200"
