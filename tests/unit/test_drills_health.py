"""Parsers of the drill health probes and fault targets
(tools/drills/health.py): crm_mon XML, wsrep status, rabbitmqctl JSON,
HAProxy stats CSV, inventory groups."""
import json

from tools.drills import health

CRM_OK = """<pacemaker-result api-version="2.30" request="crm_mon -1 --output-as=xml">
  <summary><current_dc present="true" name="ctl1" with_quorum="true"/></summary>
  <nodes>
    <node name="ctl1" id="1" online="true"/><node name="ctl2" id="2" online="true"/>
    <node name="ctl3" id="3" online="true"/>
  </nodes>
  <resources>
    <resource id="vip" resource_agent="ocf:heartbeat:IPaddr2" role="Started" active="true"
              orphaned="false" blocked="false" managed="true" failed="false"/>
    <clone id="haproxy-clone" multi_state="false" unique="false" managed="true" failed="false">
      <resource id="haproxy" role="Started" active="true" failed="false"/>
      <resource id="haproxy" role="Started" active="true" failed="false"/>
      <resource id="haproxy" role="Started" active="true" failed="false"/>
    </clone>
  </resources>
</pacemaker-result>"""


def test_crm_mon_healthy():
    ok, detail = health.parse_crm_mon(CRM_OK)
    assert ok and detail == "4 resource instance(s) running"


def test_crm_mon_offline_node_stopped_resource_no_quorum():
    xml = CRM_OK.replace('with_quorum="true"', 'with_quorum="false"').replace(
        'name="ctl3" id="3" online="true"', 'name="ctl3" id="3" online="false"').replace(
        'role="Started" active="true"\n              orphaned', 'role="Stopped" active="false"'
        '\n              orphaned')
    ok, detail = health.parse_crm_mon(xml)
    assert not ok
    assert "no quorum" in detail and "node ctl3 offline" in detail and "vip Stopped" in detail


def test_wsrep():
    text = ("wsrep_cluster_size\t3\nwsrep_local_state_comment\tSynced\n"
            "wsrep_cluster_status\tPrimary\nwsrep_ready\tON\n")
    assert health.parse_wsrep(text, 3) == (True, "size=3 Synced Primary")
    assert not health.parse_wsrep(text.replace("\t3", "\t2"), 3)[0]
    assert not health.parse_wsrep(text.replace("Synced", "Donor/Desynced"), 3)[0]


def test_rabbit_cluster_status():
    data = {"running_nodes": ["rabbit@ctl1", "rabbit@ctl2", "rabbit@ctl3"],
            "partitions": {}, "alarms": []}
    assert health.parse_rabbit_cluster(json.dumps(data), 3) == (True, "3 running")
    data["running_nodes"].pop()
    assert not health.parse_rabbit_cluster(json.dumps(data), 3)[0]


def test_haproxy_writer_active_then_first_backup():
    head = "# pxname,svname,status,bck,\n"
    csv_text = head + ("mariadb,FRONTEND,OPEN,,\nmariadb,ctl1,UP,0,\nmariadb,ctl2,UP,1,\n"
                       "mariadb,ctl3,UP,1,\nmariadb,BACKEND,UP,0,\nkeystone,ctl1,UP,0,\n")
    assert health.parse_haproxy_writer(csv_text) == "ctl1"
    assert health.parse_haproxy_writer(csv_text.replace("ctl1,UP", "ctl1,DOWN")) == "ctl2"
    assert health.parse_haproxy_writer(csv_text.replace("ctl1,UP", "ctl1,DOWN 1/2")
                                       .replace("ctl2,UP", "ctl2,MAINT")) == "ctl3"
    assert health.parse_haproxy_writer(head + "mariadb,ctl1,DOWN,0,\n") is None


def test_queue_leaders_and_node_names():
    text = json.dumps([{"name": "q1", "leader": "rabbit@ctl2"},
                       {"name": "q2", "leader": "rabbit@ctl2"},
                       {"name": "q3", "leader": "rabbit@ctl1"},
                       {"name": "classic", "leader": ""}])
    assert health.parse_queue_leaders(text) == {"rabbit@ctl2": 2, "rabbit@ctl1": 1}
    assert health.node_to_host("rabbit@ctl2", ["ctl1", "ctl2"]) == "ctl2"
    assert health.node_to_host("rabbit@ctl2.lab", ["ctl1.lab", "ctl2.lab"]) == "ctl2.lab"
    assert health.node_to_host("rabbit@x", ["ctl1"]) is None


def test_services():
    services = [{"binary": "controlplane-compute", "host": "cmp1", "status": "enabled",
                 "state": "up"},
                {"binary": "controlplane-compute", "host": "cmp2", "status": "enabled",
                 "state": "down"},
                {"binary": "controlplane-scheduler", "host": "ctl1", "status": "disabled",
                 "state": "down"}]
    ok, detail, states = health.parse_services(services)
    assert not ok and detail == "down: controlplane-compute@cmp2"
    assert states == {"cmp1": "up", "cmp2": "down"}
    ok, detail, _ = health.parse_services(services[:1], compute_hosts=["cmp1", "cmp3"])
    assert not ok and detail == "no compute service: cmp3"
    assert health.parse_services([])[:2] == (False, "no service registered")


def test_inventory_groups_and_available_probes():
    data = {"_meta": {"hostvars": {"ctl1": {"controlplane_vip": "10.0.0.10"}}},
            "all": {"children": ["lab", "galera"]},
            "lab": {"children": ["controllers", "computes"]},
            "controllers": {"hosts": ["ctl1", "ctl2"]},
            "computes": {"hosts": ["cmp1"]},
            "galera": {"children": ["controllers"]}}
    inv = health.Inventory(data=data, ansible_bin="/nonexistent")
    assert inv.hosts("galera") == ["ctl1", "ctl2"]
    assert inv.hosts("all") == ["ctl1", "ctl2", "cmp1"]
    assert inv.group_var("controllers", "controlplane_vip") == "10.0.0.10"
    prober = health.Prober(inv, admin=None)
    assert prober.available() == ["pacemaker", "galera"]
