"""roles/pacemaker's clone templates: clone-min only when asked for.

The galera and rabbitmq roles pass ``clone_min: 1`` so that the
controlplane services' orders (first: these clones) are satisfied by one
instance anywhere (Pacemaker Explained, "Clone Options", clone-min); the
templates render well-formed XML with or without it.
"""
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import pytest

CIB = Path(__file__).resolve().parents[2] / "roles" / "pacemaker" / "templates" / "cib"

GALERA = {"resource": "galera", "cluster_address": "gcomm://a,b,c",
          "host_map": "n1:a;n2:b;n3:c", "promoted_max": 3, "attributes": {"user": "mysql"},
          "start_timeout": "120s", "stop_timeout": "120s", "promote_timeout": "300s",
          "monitor_interval": "20s", "unpromoted_monitor_interval": "30s"}
RABBITMQ = {"resource": "rabbitmq", "unit": "rabbitmq-server", "monitor_interval": "10s",
            "start_timeout": "200s", "stop_timeout": "120s", "meta": {"failure-timeout": "15s"}}


def _clone_meta(template, params):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(CIB)),
                             undefined=jinja2.StrictUndefined)
    xml = env.get_template(template).render(item={"params": params})
    clone = ET.fromstring(xml)
    assert clone.tag == "clone" and clone.get("id") == params["resource"] + "-clone"
    return {nv.get("name"): nv.get("value")
            for nv in clone.find("meta_attributes").iter("nvpair")}


@pytest.mark.parametrize("template,params", [("galera-clone.xml.j2", GALERA),
                                             ("systemd-clone.xml.j2", RABBITMQ)])
def test_clone_min_rendered_only_when_given(template, params):
    meta = _clone_meta(template, dict(params, clone_min="1"))
    assert meta["clone-min"] == "1" and meta["interleave"] == "true"
    assert "clone-min" not in _clone_meta(template, params)
