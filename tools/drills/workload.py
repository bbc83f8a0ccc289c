"""The drill workload: N client threads through the VIP, every request journaled.

Each client loops, until told to stop:

1. authenticate (POST /v3/auth/tokens, a new token each cycle);
2. boot a server with a client-chosen unique name
   ``<prefix>-c<client>-<n>`` (POST /servers; *acknowledged* on 2xx);
   a create that fails (5xx, 401, connection error, timeout) may still have
   been carried out, so the client first looks the name up
   (GET /servers?name=^name$) and adopts what it finds, and only then
   retries with the same name - a second server of that name is a
   duplicate the books catch;
3. waits for ACTIVE or ERROR (GET /servers/{id}, "show");
4. lists its servers (GET /servers/detail?name=^prefix);
5. exercises a volume with it (option ``volumes``, below);
6. stops and starts it (os-stop / os-start, waiting for SHUTOFF / ACTIVE);
7. deletes it and waits until it is gone (404).

The volume step (Block Storage API v3, Cinder's; journal lines carry
``"kind": "volume"``, ops ``vol_*``, ``volume_id``): create a
``volume_size`` GiB volume named ``<server name>-vol`` (POST /volumes,
*acknowledged* on 2xx; a failed create is looked up by exact name,
GET /volumes/detail?name=, and adopted before a retry, as for servers);
wait for ``available`` (GET /volumes/{id}, ``vol_show``); attach it to
the server (Compute POST /servers/{id}/os-volume_attachments, 200) and
wait for ``in-use``; detach it (DELETE .../os-volume_attachments/{vid},
202) and wait for ``available``; delete it (DELETE /volumes/{id}, 202)
and wait for the 404. A volume left behind (timeout, stop, error) stays
in ``owned_volumes`` and is detached/deleted at the start of the next
cycle. The step is skipped, with one ``vol_skip`` journal line for the
run, when the catalog has no block-storage endpoint (and no
``volume_endpoint_override``) or the endpoint does not answer when the
workload starts; nothing that happens to a volume stops the server part
of the cycle.

A request that fails is retried every ``retry_interval`` seconds until it
succeeds or the step's deadline passes; each attempt is its own journal
line. Outcomes (:func:`classify`): ``ok`` (2xx, or an expected status such
as 404 after a delete), ``fail`` (no answer, 5xx, 401: the service is
unavailable), ``reject`` (any other 4xx: e.g. quota, conflicting state).
Downtime is computed from ``fail`` lines only (``report``).
"""
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import requests

from tools.drills import client as osclient
from tools.drills import journal

LOG = logging.getLogger("drills.workload")

DEFAULTS = {
    "clients": 3,
    "max_live": 2,           # servers a client may own at once (quota: 10/project)
    "retry_interval": 0.2,   # s between attempts of a failed request
    "poll_interval": 0.5,    # s between status polls
    "build_wait": 90.0,      # s a client waits for ACTIVE/ERROR
    "action_wait": 60.0,     # s it waits for SHUTOFF/ACTIVE after stop/start
    "delete_wait": 60.0,     # s it waits for the 404 after a delete
    "create_attempts": 5,    # attempts of one create (same name) before giving up
    "volumes": True,         # exercise a volume with each server (block-storage API)
    "volume_size": 1,        # GiB of each volume
    "volume_wait": 60.0,     # s a client waits for a volume status (available, in-use)
    "max_live_volumes": 2,   # volumes a client may own at once (quota: 10/project)
    "volume_probe_wait": 10.0,  # s the start waits for the volume endpoint to answer
}

#: volume statuses (Cinder's) a wait gives up on: no further change is coming
VOLUME_ERROR_STATUSES = ("error", "error_deleting")


def classify(status, error=None, expect=()):
    """Outcome of one request.

    :param status: HTTP status or None (no answer).
    :param error: exception text when the request raised.
    :param expect: statuses that count as ``ok`` besides 2xx (e.g. 404 when
        polling a deleted server).
    :returns: ``"ok"``, ``"fail"`` (unavailable: no answer, 5xx, 401) or
        ``"reject"`` (another 4xx).
    """
    if error is not None or status is None:
        return "fail"
    if 200 <= status < 300 or status in expect:
        return "ok"
    if status >= 500 or status == 401:
        return "fail"
    return "reject"


class Client(threading.Thread):
    """One workload client; see the module docstring."""

    def __init__(self, idx, config, writer, stop, prefix, flavor_id, image_id, opts):
        super().__init__(name="drill-client-%d" % idx, daemon=True)
        self.idx = idx
        self.session = osclient.Session(config)
        self.writer = writer
        self.stop_event = stop
        self.prefix = prefix
        self.flavor_id = flavor_id
        self.image_id = image_id
        self.opts = opts
        self.owned = {}          # server id -> name, not yet seen deleted
        self.owned_volumes = {}  # volume id -> name, not yet seen deleted
        self.volume_delete_sent = set()  # ids a DELETE was sent for (404 expected)
        self.counter = 0

    # ------------------------------------------------------------ requests
    def _record(self, op, method, t0, status, error, outcome, **extra):
        rec = {"t0": t0, "t1": osclient.now(), "client": self.idx, "op": op,
               "method": method, "status": status, "outcome": outcome, "error": error}
        rec.update({k: v for k, v in extra.items() if v is not None})
        self.writer.write(rec)
        return rec

    def auth(self):
        t0 = osclient.now()
        status = error = None
        try:
            status = self.session.authenticate().status_code
        except requests.RequestException as exc:
            error = _err(exc)
            self.session.reset()
        outcome = classify(status, error)
        self._record("auth", "POST", t0, status, error, outcome)
        return outcome

    def call(self, op, method, path, body=None, params=None, expect=(), name=None,
             server_id=None):
        """One Compute request, journaled. Returns ``(outcome, response|None)``."""
        t0 = osclient.now()
        status = error = resp = None
        try:
            resp = self.session.compute(method, path, json=body, params=params)
            status = resp.status_code
        except requests.RequestException as exc:
            error = _err(exc)
            self.session.reset()
        outcome = classify(status, error, expect)
        extra = {}
        if op == "create" and outcome == "ok":
            try:
                server_id = resp.json()["server"]["id"]
                extra["ack"] = True
            except (ValueError, KeyError):
                outcome = "fail"
                error = "2xx without a server id"
        if op == "show" and outcome == "ok" and status == 200:
            try:
                extra["server_status"] = resp.json()["server"]["status"]
            except (ValueError, KeyError):
                pass
        if resp is not None and outcome != "ok" and error is None:
            error = resp.text[:200]
        self._record(op, method, t0, status, error, outcome, name=name,
                     server_id=server_id, **extra)
        return outcome, resp

    def vcall(self, op, method, path, api="volume", body=None, params=None, expect=(),
              name=None, volume_id=None, server_id=None):
        """One request about a volume, journaled with ``"kind": "volume"``:
        through the Block Storage API (``api="volume"``) or the Compute API
        (``api="compute"``: attach/detach). ``vol_create`` answered 2xx with a
        volume id is acknowledged (``ack``); ``vol_show`` answered 200 records
        ``volume_status``. Returns ``(outcome, response|None)``."""
        t0 = osclient.now()
        status = error = resp = None
        send = self.session.volume if api == "volume" else self.session.compute
        try:
            resp = send(method, path, json=body, params=params)
            status = resp.status_code
        except requests.RequestException as exc:
            error = _err(exc)
            self.session.reset()
        outcome = classify(status, error, expect)
        extra = {"kind": "volume"}
        if op == "vol_create" and outcome == "ok":
            try:
                volume_id = resp.json()["volume"]["id"]
                extra["ack"] = True
            except (ValueError, KeyError, TypeError):
                outcome = "fail"
                error = "2xx without a volume id"
        if op == "vol_show" and outcome == "ok" and status == 200:
            try:
                extra["volume_status"] = resp.json()["volume"]["status"]
            except (ValueError, KeyError, TypeError):
                pass
        if resp is not None and outcome != "ok" and error is None:
            error = resp.text[:200]
        self._record(op, method, t0, status, error, outcome, name=name,
                     volume_id=volume_id, server_id=server_id, **extra)
        return outcome, resp

    def until_ok(self, deadline, fn):
        """Repeat ``fn() -> (outcome, resp)`` while it fails, until the
        deadline or stop. Returns the last ``(outcome, resp)``."""
        while True:
            outcome, resp = fn()
            if outcome != "fail" or time.monotonic() > deadline or self.stopping():
                return outcome, resp
            time.sleep(self.opts["retry_interval"])

    def stopping(self):
        return self.stop_event.is_set()

    # ------------------------------------------------------------ steps
    def wait_status(self, server_id, name, wanted, timeout, gone=False):
        """Poll show until status in ``wanted`` (or 404 when ``gone``).
        Returns the last status string, ``"GONE"`` or None (timeout/stop)."""
        deadline = time.monotonic() + timeout
        while not self.stopping() and time.monotonic() < deadline:
            outcome, resp = self.call("show", "GET", "/servers/" + server_id,
                                      expect=(404,) if gone else (), name=name,
                                      server_id=server_id)
            if resp is not None and resp.status_code == 404:
                return "GONE"
            if outcome == "ok":
                status = resp.json()["server"]["status"]
                if status in wanted:
                    return status
            time.sleep(self.opts["poll_interval"] if outcome == "ok"
                       else self.opts["retry_interval"])
        return None

    def create(self, name):
        """Boot ``name``; returns the server id (acknowledged or adopted) or None."""
        body = {"server": {"name": name, "flavorRef": self.flavor_id,
                           "imageRef": self.image_id, "networks": "none"}}
        for _attempt in range(self.opts["create_attempts"]):
            if self.stopping():
                return None
            outcome, resp = self.call("create", "POST", "/servers", body=body, name=name)
            if outcome == "ok":
                return resp.json()["server"]["id"]
            if outcome == "reject":
                return None
            # Failed: it may exist all the same. Look before retrying.
            deadline = time.monotonic() + 30
            outcome, resp = self.until_ok(deadline, lambda: self.call(
                "lookup", "GET", "/servers", params={"name": "^%s$" % name}, name=name))
            if outcome == "ok":
                found = resp.json().get("servers", [])
                if found:
                    sid = found[0]["id"]
                    self._record("adopt", "-", osclient.now(), None, None, "ok",
                                 name=name, server_id=sid)
                    return sid
            time.sleep(self.opts["retry_interval"])
        return None

    def delete(self, server_id, name):
        """Delete and wait for the 404; True when seen gone."""
        deadline = time.monotonic() + self.opts["delete_wait"]
        outcome, _ = self.until_ok(deadline, lambda: self.call(
            "delete", "DELETE", "/servers/" + server_id, expect=(404,), name=name,
            server_id=server_id))
        if outcome != "ok":
            return False
        if self.wait_status(server_id, name, (), self.opts["delete_wait"], gone=True) == "GONE":
            self.owned.pop(server_id, None)
            return True
        return False

    def action(self, server_id, name, action, wanted):
        deadline = time.monotonic() + self.opts["action_wait"]
        op = "stop" if action == "os-stop" else "start"
        outcome, _ = self.until_ok(deadline, lambda: self.call(
            op, "POST", "/servers/%s/action" % server_id, body={action: None},
            name=name, server_id=server_id))
        if outcome != "ok":
            return None
        return self.wait_status(server_id, name, wanted, self.opts["action_wait"])

    # ------------------------------------------------------------ volumes
    def volumes_on(self):
        """True when this client exercises volumes (option on, endpoint known)."""
        return bool(self.opts.get("volumes")) and bool(self.session.volume_url)

    def wait_volume(self, volume_id, name, wanted, timeout, gone=False):
        """Poll GET /volumes/{id} until its status is in ``wanted`` or in
        :data:`VOLUME_ERROR_STATUSES` (or 404 when ``gone``). Returns that
        status, ``"GONE"`` (404) or None (timeout/stop)."""
        deadline = time.monotonic() + timeout
        while not self.stopping() and time.monotonic() < deadline:
            outcome, resp = self.vcall("vol_show", "GET", "/volumes/" + volume_id,
                                       expect=(404,) if gone else (), name=name,
                                       volume_id=volume_id)
            if resp is not None and resp.status_code == 404:
                return "GONE"
            if outcome == "ok":
                status = _volume_status(resp)
                if status in wanted or status in VOLUME_ERROR_STATUSES:
                    return status
            time.sleep(self.opts["poll_interval"] if outcome == "ok"
                       else self.opts["retry_interval"])
        return None

    def vol_create(self, name):
        """Create volume ``name``; returns its id (acknowledged or adopted) or None."""
        body = {"volume": {"name": name, "size": self.opts["volume_size"]}}
        for _attempt in range(self.opts["create_attempts"]):
            if self.stopping():
                return None
            outcome, resp = self.vcall("vol_create", "POST", "/volumes", body=body, name=name)
            if outcome == "ok":
                return resp.json()["volume"]["id"]
            if outcome == "reject":
                return None
            # Failed: it may exist all the same. Look before retrying (the
            # name filter of GET /volumes is exact: controlplane/db/volumes.py).
            deadline = time.monotonic() + 30
            outcome, resp = self.until_ok(deadline, lambda: self.vcall(
                "vol_lookup", "GET", "/volumes/detail", params={"name": name}, name=name))
            if outcome == "ok":
                found = [v for v in _json(resp).get("volumes", []) if v.get("name") == name]
                if found:
                    vid = found[0]["id"]
                    self._record("vol_adopt", "-", osclient.now(), None, None, "ok",
                                 name=name, volume_id=vid, kind="volume")
                    return vid
            time.sleep(self.opts["retry_interval"])
        return None

    def vol_delete(self, volume_id, name):
        """DELETE /volumes/{id} and wait for the 404; True when seen gone."""
        deadline = time.monotonic() + self.opts["delete_wait"]
        self.volume_delete_sent.add(volume_id)
        outcome, resp = self.until_ok(deadline, lambda: self.vcall(
            "vol_delete", "DELETE", "/volumes/" + volume_id, expect=(404,), name=name,
            volume_id=volume_id))
        if outcome == "reject" and resp is not None and resp.status_code == 409:
            # A retry after an unanswered DELETE that was carried out: the
            # volume is already ``deleting`` (Cinder refuses a second delete).
            _o, resp = self.vcall("vol_show", "GET", "/volumes/" + volume_id, expect=(404,),
                                  name=name, volume_id=volume_id)
            if resp is not None and resp.status_code == 404:
                self.owned_volumes.pop(volume_id, None)
                return True
            if _volume_status(resp) != "deleting":
                return False
        elif outcome != "ok":
            return False
        if self.wait_volume(volume_id, name, (), self.opts["delete_wait"], gone=True) == "GONE":
            self.owned_volumes.pop(volume_id, None)
            return True
        return False

    def vol_detach(self, server_id, volume_id, name):
        """Compute DELETE /servers/{sid}/os-volume_attachments/{vid} (202;
        404 counts as done: a retried detach whose first attempt was carried
        out). Returns the outcome."""
        deadline = time.monotonic() + self.opts["action_wait"]
        outcome, _ = self.until_ok(deadline, lambda: self.vcall(
            "vol_detach", "DELETE", "/servers/%s/os-volume_attachments/%s" % (
                server_id, volume_id), api="compute", expect=(404,), name=name,
            volume_id=volume_id, server_id=server_id))
        return outcome

    def volume_round(self, server_id, server_name):
        """The volume step of a cycle with ACTIVE server ``server_id``: create,
        attach, detach, delete (module docstring). Anything not finished is
        left in ``owned_volumes`` for :meth:`reap_volumes`."""
        if len(self.owned_volumes) >= self.opts["max_live_volumes"]:
            return
        name = server_name + "-vol"
        vid = self.vol_create(name)
        if vid is None:
            return
        self.owned_volumes[vid] = name
        wait = self.opts["volume_wait"]
        status = self.wait_volume(vid, name, ("available",), wait)
        if status == "available":
            deadline = time.monotonic() + self.opts["action_wait"]
            self.until_ok(deadline, lambda: self.vcall(
                "vol_attach", "POST", "/servers/%s/os-volume_attachments" % server_id,
                api="compute", body={"volumeAttachment": {"volumeId": vid}}, name=name,
                volume_id=vid, server_id=server_id))
            # Whatever the answer: the attach may have been carried out (in-use)
            # or not, or rolled back by the compute host (available again).
            status = self.wait_volume(vid, name, ("in-use", "available"), wait)
            if status == "in-use":
                outcome = self.vol_detach(server_id, vid, name)
                if outcome == "fail":
                    return  # left attached: the server's delete detaches it
                # A reject may be the retry of a detach carried out (409 while
                # ``detaching``): wait unless the volume is still plainly in-use.
                status = self.wait_volume(vid, name, ("available",) if outcome == "ok"
                                          else ("available", "in-use"), wait)
        if status == "GONE":  # vanished without our delete: the books tell
            self.owned_volumes.pop(vid, None)
        elif status in ("available", "error"):
            self.vol_delete(vid, name)

    def reap_volumes(self):
        """Detach (when in-use) and delete the volumes earlier cycles left."""
        wait = self.opts["volume_wait"]
        for vid, name in list(self.owned_volumes.items()):
            if self.stopping():
                return
            # A 404 is expected only once a DELETE was sent; else the volume
            # vanished (a ``reject`` line; the books count it lost).
            expect = (404,) if vid in self.volume_delete_sent else ()
            outcome, resp = self.vcall("vol_show", "GET", "/volumes/" + vid, name=name,
                                       volume_id=vid, expect=expect)
            if resp is not None and resp.status_code == 404:
                self.owned_volumes.pop(vid, None)
                continue
            if outcome != "ok":
                continue
            status = _volume_status(resp)
            if status == "in-use":
                for att in _json(resp).get("volume", {}).get("attachments") or []:
                    if att.get("server_id"):
                        self.vol_detach(att["server_id"], vid, name)
                status = self.wait_volume(vid, name, ("available",), wait)
                if status == "GONE":
                    self.owned_volumes.pop(vid, None)
                    continue
            if status in ("available", "error"):
                self.vol_delete(vid, name)

    # ------------------------------------------------------------ cycle
    def cycle(self):
        far = time.monotonic() + 60
        for sid, name in list(self.owned.items()):
            if self.stopping():
                return
            self.delete(sid, name)
        if self._auth_until_ok(far) != "ok":
            return
        if self.owned_volumes and self.volumes_on():
            self._guarded(self.reap_volumes)
        if len(self.owned) >= self.opts["max_live"]:
            time.sleep(1)
            return
        self.counter += 1
        name = "%s-c%d-%d" % (self.prefix, self.idx, self.counter)
        sid = self.create(name)
        if sid is None:
            time.sleep(1)  # rejected (quota?) or gave up: do not spin
            return
        self.owned[sid] = name
        status = self.wait_status(sid, name, ("ACTIVE", "ERROR"), self.opts["build_wait"])
        if status == "GONE":
            # Vanished without a DELETE of ours: journal it and leave it to
            # the books (an acknowledged create seen gone is a lost write).
            self.owned.pop(sid, None)
            self._record("vanished", "-", osclient.now(), None, None, "reject", name=name,
                         server_id=sid)
            return
        if self.stopping():
            return
        self.until_ok(time.monotonic() + 30, lambda: self.call(
            "list", "GET", "/servers/detail", params={"name": "^" + self.prefix}))
        if status == "ACTIVE" and self.volumes_on():
            self._guarded(lambda: self.volume_round(sid, name))
            if self.stopping():
                return
        if status == "ACTIVE":
            if self.action(sid, name, "os-stop", ("SHUTOFF",)) == "SHUTOFF":
                self.action(sid, name, "os-start", ("ACTIVE",))
        if not self.stopping():
            self.delete(sid, name)

    def _guarded(self, fn):
        """Run a volume step; a surprise is journaled, never raised, so the
        server part of the cycle goes on."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - volumes must not stop servers
            self._record("internal", "-", osclient.now(), None, _err(exc), "reject",
                         kind="volume")

    def _auth_until_ok(self, deadline):
        while not self.stopping():
            outcome = self.auth()
            if outcome != "fail" or time.monotonic() > deadline:
                return outcome
            time.sleep(self.opts["retry_interval"])
        return "stopped"

    def run(self):
        while not self.stopping():
            try:
                self.cycle()
            except Exception as exc:  # keep the client alive; journal the surprise
                self._record("internal", "-", osclient.now(), None, _err(exc), "reject")
                time.sleep(1)


def _err(exc):
    return ("%s: %s" % (type(exc).__name__, exc))[:240]


def _json(resp):
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _volume_status(resp):
    """``volume.status`` of a GET /volumes/{id} answer (None when absent)."""
    vol = _json(resp).get("volume")
    return vol.get("status") if isinstance(vol, dict) else None


def probe_volumes(config, timeout=10.0, interval=2.0):
    """Whether the workload can exercise volumes: ``(True, url)`` when the
    block-storage endpoint (catalog or override) answers GET /limits with
    200 within ``timeout`` seconds, else ``(False, reason)``. Not journaled:
    the cloud is healthy when a drill starts, and a missing volume service
    must not count as a baseline failure."""
    deadline = time.monotonic() + timeout
    reason = "not authenticated"
    while True:
        try:
            session = osclient.Session(config)
            resp = session.authenticate()
            if resp.status_code != 201:
                reason = "authentication: HTTP %d" % resp.status_code
            elif not session.volume_url:
                return False, "no block-storage endpoint in the catalog (types %s)" % (
                    "/".join(osclient.VOLUME_SERVICE_TYPES))
            else:
                resp = session.volume("GET", "/limits")
                if resp.status_code == 200:
                    return True, session.volume_url
                reason = "%s/limits: HTTP %d" % (session.volume_url, resp.status_code)
        except requests.RequestException as exc:
            reason = _err(exc)
        if time.monotonic() > deadline:
            return False, reason
        time.sleep(interval)


def _resolve(config, flavor, image, timeout=120):
    """Flavor and image ids, retried while the cloud is not answering."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            session = osclient.Session(config)
            if session.authenticate().status_code == 201:
                return (session.project_id, osclient.resolve_flavor(session, flavor),
                        osclient.resolve_image(session, image))
        except (requests.RequestException, LookupError) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError("cannot resolve flavor/image: %s" % exc)
        if time.monotonic() > deadline:
            raise RuntimeError("cannot authenticate as %s" % config.name)
        time.sleep(2)


def run(out_dir, config, clients=3, duration=None, stop_file=None, prefix=None,
        flavor="m1.tiny", image="cirros", progress=print, **opts):
    """Run the workload until ``duration`` seconds passed or ``stop_file``
    exists (or SIGTERM). Writes ``requests.jsonl``, ``workload.json`` and
    the ``workload_start``/``workload_stop`` events in ``out_dir``.

    :returns: ``{"requests": n, "fail": n, ...}`` counts.
    """
    options = dict(DEFAULTS, **{k: v for k, v in opts.items() if v is not None})
    os.makedirs(out_dir, exist_ok=True)
    prefix = prefix or "drill-%d" % int(time.time())
    project_id, flavor_id, image_id = _resolve(config, flavor, image)
    skip_volumes = None
    if options["volumes"]:
        usable, detail = probe_volumes(config, timeout=options["volume_probe_wait"])
        if usable:
            progress("workload: volumes through %s" % detail)
        else:
            skip_volumes = "volumes skipped: %s" % detail
            options["volumes"] = False
            LOG.warning("%s", skip_volumes)
            progress("workload: " + skip_volumes)
    meta = {"prefix": prefix, "cloud": config.name, "project_id": project_id,
            "clients": clients, "flavor": flavor_id, "image": image_id,
            "volumes": bool(options["volumes"]), "options": options, "pid": os.getpid()}
    with open(os.path.join(out_dir, "workload.json"), "w") as f:
        json.dump(meta, f, indent=2)
    writer = journal.Writer(os.path.join(out_dir, journal.REQUESTS))
    if skip_volumes:
        now = osclient.now()
        writer.write({"t0": now, "t1": now, "client": None, "op": "vol_skip", "method": "-",
                      "status": None, "outcome": "ok", "error": None, "kind": "volume",
                      "detail": skip_volumes})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    journal.mark(out_dir, "workload_start", "%d clients, prefix %s" % (clients, prefix))
    threads = [Client(i, config, writer, stop, prefix, flavor_id, image_id, options)
               for i in range(clients)]
    for t in threads:
        t.start()
    started = time.monotonic()
    counter = _Counter(os.path.join(out_dir, journal.REQUESTS))
    try:
        while not stop.is_set():
            time.sleep(1)
            if duration is not None and time.monotonic() - started >= duration:
                break
            if stop_file and os.path.exists(stop_file):
                break
            if int(time.monotonic() - started) % 5 == 0:
                progress("workload +%3ds %s" % (time.monotonic() - started, counter.line()))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        journal.mark(out_dir, "workload_stop")
        writer.close()
    summary = counter.counts()
    progress("workload stopped: %s" % counter.line())
    return summary


class _Counter:
    """Incremental counts over the journal file for the progress line."""

    def __init__(self, path):
        self.path = path

    def counts(self):
        recs = journal.read(self.path)
        out = {"requests": len(recs), "ok": 0, "fail": 0, "reject": 0, "acked": 0,
               "acked_volumes": 0}
        for r in recs:
            out[r["outcome"]] = out.get(r["outcome"], 0) + 1
            if r.get("ack"):
                out["acked_volumes" if r.get("kind") == "volume" else "acked"] += 1
        return out

    def line(self):
        c = self.counts()
        return "requests=%(requests)d ok=%(ok)d fail=%(fail)d reject=%(reject)d " \
               "acked_creates=%(acked)d acked_volumes=%(acked_volumes)d" % c


def start_background(out_dir, argv):
    """Start ``python -m tools.drills run ARGV --stop-file OUT/stop`` detached;
    returns its pid (also in ``OUT/workload.pid``)."""
    os.makedirs(out_dir, exist_ok=True)
    stop_file = os.path.join(out_dir, "stop")
    if os.path.exists(stop_file):
        os.unlink(stop_file)
    log = open(os.path.join(out_dir, "workload.log"), "a")
    cmd = [sys.executable, "-m", "tools.drills", "run", *argv, "--stop-file", stop_file]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=repo, env=env)
    with open(os.path.join(out_dir, "workload.pid"), "w") as f:
        f.write(str(proc.pid))
    return proc.pid


def stop_background(out_dir, timeout=90):
    """Ask a background workload to stop (stop file), wait for it to exit.

    :returns: True when it exited within ``timeout`` seconds.
    """
    open(os.path.join(out_dir, "stop"), "w").close()
    pid_file = os.path.join(out_dir, "workload.pid")
    if not os.path.exists(pid_file):
        return True
    pid = int(open(pid_file).read().strip())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # reap it when it is our child (same process started it)
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.5)
    os.kill(pid, signal.SIGTERM)
    return False
