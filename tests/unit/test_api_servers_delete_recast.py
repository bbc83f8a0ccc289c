"""DELETE /servers/{id} of a server already ``deleting`` casts
terminate_instance again (as Nova's delete does): the first cast may have
been lost, or its handler failed and was acked. A failed cast is logged and
the delete still answers 204 (the compute's complete_stale_deletes finishes
it)."""
from controlplane.api.compute import server_actions
from controlplane.db import engine as db_engine
from controlplane.db import instances
from tests.unit.api_client import boot_body, place


def _server(env, **kw):
    r = env.api.post("/servers", boot_body())
    assert r.status_code == 202, r.data
    sid = r.get_json()["server"]["id"]
    place(env, sid, **kw)
    return sid


def test_delete_of_deleting_server_casts_terminate_again(env):
    sid = _server(env, task_state="deleting")
    assert env.api.delete("/servers/" + sid).status_code == 204
    (_m, args, kwargs), = env.casts.of("terminate_instance")
    assert args == ("host1", sid) and kwargs["transport_url"] == "rabbit://c1/"
    assert env.api.delete("/servers/" + sid).status_code == 204
    assert len(env.casts.of("terminate_instance")) == 2
    inst = instances.get_instance(db_engine.cell_engine(env.cell1), sid)
    assert inst["task_state"] == "deleting" and not inst["deleted"]


def test_failed_recast_still_answers_204(env, monkeypatch, caplog):
    sid = _server(env, task_state="deleting")

    class Down:
        def terminate_instance(self, *args, **kwargs):
            raise ConnectionError("broker unreachable")
    monkeypatch.setattr(server_actions, "_compute", Down())
    with caplog.at_level("WARNING"):
        r = env.api.delete("/servers/" + sid)
    assert r.status_code == 204 and not r.data
    assert any(sid in rec.getMessage() and "broker unreachable" in rec.getMessage()
               for rec in caplog.records if rec.levelname == "WARNING")
    inst = instances.get_instance(db_engine.cell_engine(env.cell1), sid)
    assert inst["task_state"] == "deleting"
