"""The drill directory's journals (JSON lines, one object per line).

``requests.jsonl`` (written by the workload), one request per line::

    {"t0": 1763716800.12, "t1": 1763716800.31,   # epoch seconds, start/end
     "client": 2, "op": "create", "method": "POST", "status": 202,
     "outcome": "ok" | "fail" | "reject", "error": null | "ReadTimeout...",
     "name": "drill-...-c2-7", "server_id": "uuid" | null, "ack": true}

Volume lines also carry ``"kind": "volume"`` and ``"volume_id"`` (ops
``vol_create``, ``vol_show``, ``vol_attach``, ``vol_detach``,
``vol_delete``, ``vol_lookup``, ``vol_adopt``, ``vol_skip``).

``events.jsonl`` (workload, playbooks, ``mark``), one drill event per line::

    {"t": 1763716830.5, "event": "fault", "detail": "podman kill ctl2"}

Events used by the report: ``workload_start``, ``fault``, ``heal``,
``healthy``, ``workload_stop`` (others are drawn on the timeline only).
"""
import json
import os
import threading
import time

REQUESTS = "requests.jsonl"
EVENTS = "events.jsonl"


class Writer:
    """Append JSON lines to a file from several threads; flushed per line."""

    def __init__(self, path):
        self._f = open(path, "a", buffering=1)
        self._lock = threading.Lock()

    def write(self, record):
        line = json.dumps(record, sort_keys=True)
        with self._lock:
            self._f.write(line + "\n")

    def close(self):
        with self._lock:
            self._f.close()


def read(path):
    """Records of a JSON-lines file ([] when it does not exist); a torn last
    line (writer killed mid-line) is skipped."""
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def mark(drill_dir, event, detail=None, t=None):
    """Append one event to ``<drill_dir>/events.jsonl``; returns the record."""
    os.makedirs(drill_dir, exist_ok=True)
    record = {"t": time.time() if t is None else t, "event": event}
    if detail:
        record["detail"] = detail
    with open(os.path.join(drill_dir, EVENTS), "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
    return record


def first_event(events, name, after=None):
    """Time of the first event ``name`` (at or after ``after``), or None."""
    times = [e["t"] for e in events
             if e.get("event") == name and (after is None or e["t"] >= after)]
    return min(times) if times else None
