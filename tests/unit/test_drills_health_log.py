"""`python -m tools.drills health --wait --out DIR` keeps the probes'
progress in DIR/health.log next to health.json, so a report shows which
component recovered last."""
import json
import types

from tools.drills import __main__ as cli


class FakeProber:
    def wait_healthy(self, timeout, interval, names, progress):
        progress("health +  0s: galera ok, pacemaker NOT OK (ctl2: p_api stopped)")
        progress("health +  2s: galera ok, pacemaker NOT OK (ctl2: p_api starting)")
        return {"healthy": True, "elapsed_s": 4.0,
                "probes": {"galera": {"ok": True, "detail": "", "first_ok_s": 0.0},
                           "pacemaker": {"ok": True, "detail": "", "first_ok_s": 4.0}}}


def test_wait_writes_progress_log_and_result(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_prober", lambda args: FakeProber())
    args = types.SimpleNamespace(probes=None, wait=True, timeout=10, interval=1,
                                 out=str(tmp_path), mark="healthy")
    assert cli.cmd_health(args) == 0
    lines = (tmp_path / "health.log").read_text().splitlines()
    assert len(lines) == 2 and "p_api stopped" in lines[0] and "p_api starting" in lines[1]
    assert json.loads((tmp_path / "health.json").read_text())["healthy"] is True
    assert "p_api stopped" in capsys.readouterr().out
