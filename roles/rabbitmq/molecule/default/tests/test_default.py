"""Verify roles/rabbitmq: 3 running nodes, pause_minority, the service
vhost (quorum by default) and user, no guest."""
import json


def _cluster(host):
    return json.loads(host.check_output("rabbitmqctl cluster_status --formatter json"))


def test_three_running_nodes(host):
    status = _cluster(host)
    assert len(status["running_nodes"]) == 3
    assert status["partitions"] in ({}, [])


def test_partition_handling(host):
    conf = host.file("/etc/rabbitmq/rabbitmq.conf").content_string
    assert "cluster_partition_handling = pause_minority" in conf


def test_net_ticktime_in_effect(host):
    # a crashed peer is declared down within ~10 s, not Erlang's 60
    assert host.check_output("rabbitmqctl eval 'net_kernel:get_net_ticktime().'").strip() == "10"


def test_vhost_default_queue_type(host):
    out = host.check_output("rabbitmqctl list_vhosts name default_queue_type --formatter json --quiet")
    vhosts = {v["name"]: v["default_queue_type"] for v in json.loads(out)}
    assert vhosts.get("controlplane") == "quorum"


def test_users(host):
    out = host.check_output("rabbitmqctl list_users --formatter json --quiet")
    users = {u["user"] for u in json.loads(out)}
    assert "controlplane" in users
    assert "guest" not in users


def test_same_erlang_cookie_everywhere(host):
    cookie = host.file("/var/lib/rabbitmq/.erlang.cookie")
    assert cookie.user == "rabbitmq"
    assert cookie.mode == 0o400


def test_stop_command_skips_a_dead_node(host):
    # systemd runs ExecStop after the node died on its own too; the drop-in
    # makes that a no-op instead of a 90 s wait (tasks/main.yml).
    unit = host.check_output("systemctl show rabbitmq-server --property ExecStop")
    assert "MAINPID" in unit
    assert "rabbitmqctl stop" in unit
