"""The books: what must hold once the cloud has recovered.

- **no acknowledged write lost**: every server whose create got a 2xx
  exists, or the workload itself deleted it (a DELETE answered 2xx/404 or
  a show answered 404 after its delete);
- **no duplicate**: no two servers of one client-chosen name (the listing
  now, and the ids the journal saw for a name);
- **nothing stuck**: after a settle timeout no server of this run (name
  prefix) is in BUILD, or has task_state ``deleting``; stuck servers of the
  project left by something else (an earlier drill, which reported them)
  are listed in ``stuck_other``, not counted again;
- **quota equals reality**: ``/limits`` ``totalInstancesUsed`` equals the
  number of servers the project lists that are not being deleted (as in
  Nova, an accepted delete queues the instance mapping for delete and frees
  the quota at once, so a server stuck in ``deleting`` is reported as stuck
  once, not again as a quota mismatch in every later drill).

Reported but not a violation: *orphans* (a server of the run whose create
never got a 2xx: the request was carried out but its answer was lost) and
builds that ended in ERROR (a violation only for drills whose target is
"no lost build", see ``targets``).

Volumes (Block Storage v3; journal lines ``"kind": "volume"``, ops
``vol_*``, see ``workload``) balance by the same rules, checked when the
workload exercised volumes:

- **no acknowledged volume lost**: every volume whose ``vol_create`` got a
  2xx exists, or the workload deleted it: a ``vol_delete`` answered 2xx,
  or a ``vol_delete``/``vol_show`` answered 404 *after* a delete of it
  was sent (a 404 with no delete before it is a volume that vanished);
- **no duplicate**: no two volumes of one client-chosen name (listing and
  journal);
- **nothing stuck**: no volume of this run in a transitional status
  (:data:`STUCK_VOLUME_STATUSES`) after the settle timeout (others of the
  project: ``volume_stuck_other``);
- **quota equals reality**: ``/limits`` ``totalVolumesUsed`` (or the quota
  set's ``volumes.in_use``) equals the number of volumes the project lists.

Volume orphans and volumes that went to an ``error*`` status are reported,
not violations.

:func:`evaluate` is pure (journal + listing -> verdict); :func:`check`
polls the cloud until the books balance or the settle timeout passes.
"""
import time

from tools.drills import client as osclient

STUCK_STATUSES = ("BUILD",)
STUCK_TASK_STATES = ("deleting",)
#: Cinder's transitional volume statuses; ``reserved`` is the attach
#: reservation the Compute API takes before the host attaches
#: (controlplane/compute/volume_attach.py), so it must not last either.
STUCK_VOLUME_STATUSES = ("creating", "deleting", "attaching", "detaching", "extending",
                         "reserved")


def _deleted_ids(records):
    """Server ids the workload deleted: ``delete`` answered 2xx, or a
    ``delete``/``show`` answered 404 after a ``delete`` of the same id was
    sent that was not itself answered 404 (an unanswered or failed DELETE
    may have been carried out). A server that vanished before any DELETE of
    ours reached it is not one we deleted: if its create was acknowledged,
    it is lost. Journal order is
    time order per server (one client thread handles a server)."""
    deleted, delete_sent = set(), set()
    for r in records:
        sid = r.get("server_id")
        if not sid or r.get("kind") == "volume":
            continue
        op, status = r.get("op"), r.get("status")
        if op == "delete" and status is not None and 200 <= status < 300:
            deleted.add(sid)
        elif op in ("delete", "show") and status == 404 and sid in delete_sent:
            deleted.add(sid)
        if op == "delete" and status != 404:
            delete_sent.add(sid)
    return deleted


def _deleted_volume_ids(records):
    """Volume ids the workload deleted: ``vol_delete`` answered 2xx, or a
    ``vol_delete``/``vol_show`` answered 404 after a ``vol_delete`` of the
    same id was sent that was not itself answered 404 (an unanswered DELETE
    may have been carried out; a first DELETE answered 404 means the volume
    was already gone). Journal order is time order per volume: one client
    thread handles a volume."""
    deleted, delete_sent = set(), set()
    for r in records:
        vid = r.get("volume_id")
        if not vid or r.get("kind") != "volume":
            continue
        op, status = r.get("op"), r.get("status")
        if op == "vol_delete" and status is not None and 200 <= status < 300:
            deleted.add(vid)
        elif op in ("vol_delete", "vol_show") and status == 404 and vid in delete_sent:
            deleted.add(vid)
        if op == "vol_delete" and status != 404:
            delete_sent.add(vid)
    return deleted


def evaluate_volumes(records, volumes, volumes_used, prefix):
    """The volume half of the books (pure).

    :param records: the workload journal; only ``"kind": "volume"`` lines count.
    :param volumes: the project's volumes now (``/volumes/detail`` items:
        ``id``, ``name``, ``status``).
    :param volumes_used: ``/limits`` ``absolute.totalVolumesUsed`` (or the
        quota set's ``volumes.in_use``); None skips the quota check.
    :param prefix: the run's name prefix (volumes are ``<server name>-vol``).
    :returns: ``(violations, details)``; details are the ``volume_*`` keys
        of :func:`evaluate`.
    """
    acked, names, statuses = {}, {}, {}
    for r in records:
        if r.get("kind") != "volume":
            continue
        vid, name = r.get("volume_id"), r.get("name")
        if r.get("op") == "vol_create" and r.get("ack") and vid:
            acked[vid] = name
        if vid and name and r.get("op") in ("vol_create", "vol_adopt"):
            names.setdefault(name, set()).add(vid)
        if vid and r.get("volume_status"):
            statuses.setdefault(vid, set()).add(r["volume_status"])
    deleted = _deleted_volume_ids(records)
    present = {v["id"]: v for v in volumes}

    lost = sorted("%s (%s)" % (name, vid) for vid, name in acked.items()
                  if vid not in present and vid not in deleted)
    by_name = {}
    for v in volumes:
        if (v.get("name") or "").startswith(prefix):
            by_name.setdefault(v["name"], set()).add(v["id"])
    duplicates = {}
    for name in set(by_name) | set(names):
        ids = by_name.get(name, set()) | names.get(name, set())
        if len(ids) > 1:
            duplicates[name] = sorted(ids)
    stuck_all = [v for v in volumes if v.get("status") in STUCK_VOLUME_STATUSES]
    stuck = sorted("%s (%s) %s" % (v.get("name"), v["id"], v.get("status"))
                   for v in stuck_all if (v.get("name") or "").startswith(prefix))
    stuck_other = sorted("%s (%s) %s" % (v.get("name"), v["id"], v.get("status"))
                         for v in stuck_all if not (v.get("name") or "").startswith(prefix))
    known = set(acked) | {i for ids in names.values() for i in ids}
    orphans = sorted("%s (%s)" % (v.get("name"), v["id"]) for v in volumes
                     if (v.get("name") or "").startswith(prefix) and v["id"] not in known)
    errors = sorted(vid for vid in acked
                    if any(s.startswith("error") for s in statuses.get(vid, ()))
                    or (present.get(vid, {}).get("status") or "").startswith("error"))

    violations = []
    if lost:
        violations.append("%d acknowledged volume create(s) lost: %s" % (
            len(lost), ", ".join(lost)))
    if duplicates:
        violations.append("%d volume name(s) created twice: %s" % (
            len(duplicates), ", ".join(sorted(duplicates))))
    if stuck:
        violations.append("%d volume(s) stuck: %s" % (len(stuck), ", ".join(stuck)))
    if volumes_used is not None and volumes_used != len(volumes):
        violations.append("volume quota usage %s != %d volumes" % (volumes_used, len(volumes)))
    return violations, {
        "volume_acked": len(acked), "volume_deleted_by_workload": len(deleted & set(acked)),
        "volume_lost": lost, "volume_duplicates": duplicates, "volume_stuck": stuck,
        "volume_stuck_other": stuck_other,
        "volume_quota_used": volumes_used, "volume_count": len(volumes),
        "volume_orphans": orphans, "volume_errors": errors}


def evaluate(records, servers, instances_used, prefix, volumes=None, volumes_used=None):
    """Balance the books.

    :param records: the workload journal (``requests.jsonl`` records).
    :param servers: the project's servers now (``/servers/detail`` items:
        ``id``, ``name``, ``status``, ``OS-EXT-STS:task_state``).
    :param instances_used: ``/limits`` ``absolute.totalInstancesUsed``.
    :param prefix: the run's server name prefix.
    :param volumes: the project's volumes now (``/volumes/detail`` items),
        or None: volume checks skipped (``volumes_checked`` False).
    :param volumes_used: the project's counted volume usage
        (:func:`evaluate_volumes`); None skips only the volume quota check.
    :returns: dict with ``ok`` (bool), ``violations`` (list of str) and the
        details ``acked``, ``lost``, ``duplicates``, ``stuck``,
        ``quota_used``, ``server_count``, ``orphans``, ``build_errors``,
        ``volumes_checked`` and, when checked, ``volume_acked``,
        ``volume_deleted_by_workload``, ``volume_lost``,
        ``volume_duplicates``, ``volume_stuck``, ``volume_quota_used``,
        ``volume_count``, ``volume_orphans``, ``volume_errors``.
    """
    acked = {}
    names = {}                       # name -> ids the journal saw
    statuses = {}                    # server id -> statuses seen
    for r in records:
        sid, name = r.get("server_id"), r.get("name")
        if r.get("op") == "create" and r.get("ack") and sid:
            acked[sid] = name
        if sid and name and r.get("op") in ("create", "adopt"):
            names.setdefault(name, set()).add(sid)
        if sid and r.get("server_status"):
            statuses.setdefault(sid, set()).add(r["server_status"])
    deleted = _deleted_ids(records)
    present = {s["id"]: s for s in servers}

    lost = sorted("%s (%s)" % (name, sid) for sid, name in acked.items()
                  if sid not in present and sid not in deleted)
    by_name = {}
    for s in servers:
        if s.get("name", "").startswith(prefix):
            by_name.setdefault(s["name"], set()).add(s["id"])
    duplicates = {}
    for name in set(by_name) | set(names):
        ids = by_name.get(name, set()) | names.get(name, set())
        if len(ids) > 1:
            duplicates[name] = sorted(ids)
    stuck_all = [s for s in servers if s.get("status") in STUCK_STATUSES
                 or s.get("OS-EXT-STS:task_state") in STUCK_TASK_STATES]
    stuck = sorted("%s (%s) %s/%s" % (s.get("name"), s["id"], s.get("status"),
                                      s.get("OS-EXT-STS:task_state"))
                   for s in stuck_all if s.get("name", "").startswith(prefix))
    stuck_other = sorted("%s (%s) %s/%s" % (s.get("name"), s["id"], s.get("status"),
                                            s.get("OS-EXT-STS:task_state"))
                         for s in stuck_all if not s.get("name", "").startswith(prefix))
    known = set(acked) | {i for ids in names.values() for i in ids}
    orphans = sorted("%s (%s)" % (s.get("name"), s["id"]) for s in servers
                     if s.get("name", "").startswith(prefix) and s["id"] not in known)
    build_errors = sorted(sid for sid in acked
                          if "ERROR" in statuses.get(sid, set())
                          or present.get(sid, {}).get("status") == "ERROR")

    violations = []
    if lost:
        violations.append("%d acknowledged create(s) lost: %s" % (len(lost), ", ".join(lost)))
    if duplicates:
        violations.append("%d name(s) created twice: %s" % (
            len(duplicates), ", ".join(sorted(duplicates))))
    if stuck:
        violations.append("%d server(s) stuck: %s" % (len(stuck), ", ".join(stuck)))
    counted = [s for s in servers if s.get("OS-EXT-STS:task_state") != "deleting"]
    if instances_used != len(counted):
        violations.append("quota usage %s != %d servers" % (instances_used, len(counted)))
    result = {"acked": len(acked),
              "deleted_by_workload": len(deleted & set(acked)), "lost": lost,
              "duplicates": duplicates, "stuck": stuck, "stuck_other": stuck_other,
              "quota_used": instances_used,
              "server_count": len(servers), "server_counted": len(counted),
              "orphans": orphans,
              "build_errors": build_errors, "volumes_checked": volumes is not None}
    if volumes is not None:
        vol_violations, details = evaluate_volumes(records, volumes, volumes_used, prefix)
        violations.extend(vol_violations)
        result.update(details)
    result.update(ok=not violations, violations=violations)
    return result


def exercised_volumes(records):
    """True when the journal shows the workload sent volume requests (a
    ``vol_skip`` line alone - volumes skipped - does not count)."""
    return any(r.get("kind") == "volume" and r.get("op") != "vol_skip" for r in records)


#: Items per page when listing (Nova's and Cinder's ``limit``/``marker``).
PAGE_SIZE = 200


def _list_all(request, path, key):
    """Every item of a paged ``limit``/``marker`` listing.

    :param request: ``f(method, path, params=...) -> requests.Response``
        (``Session.compute`` or ``Session.volume``).
    :param path: the detail listing, e.g. ``/servers/detail``.
    :param key: the body's list key (``servers``, ``volumes``).
    :returns: list of item dicts.
    :raises RuntimeError: a page did not answer 200.
    """
    out, marker = [], None
    while True:
        params = {"limit": PAGE_SIZE}
        if marker:
            params["marker"] = marker
        resp = request("GET", path, params=params)
        if resp.status_code != 200:
            raise RuntimeError("%s list: HTTP %d" % (key, resp.status_code))
        page = resp.json()[key]
        out.extend(page)
        if len(page) < PAGE_SIZE:
            return out
        marker = page[-1]["id"]


def list_servers(session):
    """Every server of the session's project (paged ``/servers/detail``).

    :raises RuntimeError: a page did not answer 200.
    """
    return _list_all(session.compute, "/servers/detail", "servers")


def instances_used(session):
    resp = session.compute("GET", "/limits")
    if resp.status_code != 200:
        raise RuntimeError("limits: HTTP %d" % resp.status_code)
    return resp.json()["limits"]["absolute"]["totalInstancesUsed"]


def list_volumes(session):
    """Every volume of the session's project (paged ``/volumes/detail``).

    :raises RuntimeError: a page did not answer 200.
    """
    return _list_all(session.volume, "/volumes/detail", "volumes")


def volumes_used(session):
    """The project's counted volumes: ``/limits`` ``absolute.totalVolumesUsed``,
    else (no such key or not 200) ``/os-quota-sets/{project}?usage=True``
    ``quota_set.volumes.in_use`` (both in controlplane/api/volume).

    :raises RuntimeError: neither answered.
    """
    resp = session.volume("GET", "/limits")
    if resp.status_code == 200:
        used = resp.json().get("limits", {}).get("absolute", {}).get("totalVolumesUsed")
        if used is not None:
            return used
    resp2 = session.volume("GET", "/os-quota-sets/%s" % session.project_id,
                           params={"usage": "True"})
    if resp2.status_code != 200:
        raise RuntimeError("volume usage: /limits HTTP %d, os-quota-sets HTTP %d" % (
            resp.status_code, resp2.status_code))
    return resp2.json()["quota_set"]["volumes"]["in_use"]


def snapshot(config, volumes=False):
    """``(servers, instances_used)`` of the cloud's project, now; with
    ``volumes`` ``(servers, instances_used, volumes, volumes_used)`` where
    the last two are None when the catalog has no block-storage endpoint."""
    session = osclient.Session(config)
    resp = session.authenticate()
    if resp.status_code != 201:
        raise RuntimeError("authentication: HTTP %d" % resp.status_code)
    servers, used = list_servers(session), instances_used(session)
    if not volumes:
        return servers, used
    if not session.volume_url:
        return servers, used, None, None
    return servers, used, list_volumes(session), volumes_used(session)


def check(config, records, prefix, settle=120, interval=3, progress=print, volumes=None):
    """Poll until the books balance or ``settle`` seconds pass; return the
    last :func:`evaluate` result plus ``settle_s`` (time it took).

    :param volumes: check volumes too; None: when the journal shows the
        workload exercised them (:func:`exercised_volumes`). A volume
        service that does not answer then makes the books unreadable; a
        catalog without a block-storage endpoint is a violation.
    """
    if volumes is None:
        volumes = exercised_volumes(records)
    start = time.monotonic()
    result = None
    while True:
        try:
            if volumes:
                servers, used, vols, vols_used = snapshot(config, volumes=True)
                if vols is None:
                    raise RuntimeError("no block-storage endpoint in the catalog")
                result = evaluate(records, servers, used, prefix, vols, vols_used)
            else:
                servers, used = snapshot(config)
                result = evaluate(records, servers, used, prefix)
        except Exception as exc:  # the cloud may still be coming back
            result = {"ok": False, "violations": ["books unreadable: %s" % exc]}
        elapsed = time.monotonic() - start
        if result["ok"] or elapsed >= settle:
            result["settle_s"] = round(elapsed, 1)
            return result
        progress("books: %s (retrying, %.0fs/%ds)" % ("; ".join(result["violations"]),
                                                      elapsed, settle))
        time.sleep(interval)


#: volume statuses a member may DELETE from (Cinder's ``delete`` expected
#: statuses, controlplane/volume/states.py DELETABLE)
DELETABLE_VOLUME_STATUSES = ("available", "error", "error_restoring", "error_extending",
                             "error_managing")


def _cleanup_volumes(session, prefix):
    """One pass over the run's volumes: detach an ``in-use`` one through the
    Compute API (DELETE /servers/{sid}/os-volume_attachments/{vid}; after
    the servers are gone their delete has already detached it, so this is
    for a server outside the run), DELETE a deletable one, leave the others
    to settle. Returns the volumes of the run still present."""
    left = [v for v in list_volumes(session) if (v.get("name") or "").startswith(prefix)]
    for v in left:
        status = v.get("status")
        if status == "in-use":
            for att in v.get("attachments") or []:
                if att.get("server_id"):
                    session.compute("DELETE", "/servers/%s/os-volume_attachments/%s" % (
                        att["server_id"], v["id"]))
        elif status in DELETABLE_VOLUME_STATUSES:
            session.volume("DELETE", "/volumes/" + v["id"])
    return left


def cleanup(config, prefix, timeout=120, progress=print, volumes=True):
    """Delete the run's servers and wait until they are gone, then the
    run's volumes (when the catalog has a block-storage endpoint and
    ``volumes``), so the next drill starts within quota. Servers go first:
    a server's delete detaches its volumes (they become ``available``).
    Returns the names still present (servers, else volumes)."""
    session = osclient.Session(config)
    deadline = time.monotonic() + timeout
    left = []
    while time.monotonic() < deadline:
        try:
            if session.authenticate().status_code != 201:
                time.sleep(2)
                continue
            left = [s for s in list_servers(session) if s.get("name", "").startswith(prefix)]
            if left:
                for s in left:
                    if s.get("OS-EXT-STS:task_state") != "deleting":
                        session.compute("DELETE", "/servers/" + s["id"])
            elif volumes and session.volume_url:
                left = _cleanup_volumes(session, prefix)
            if not left:
                return []
        except Exception as exc:
            progress("cleanup: %s" % exc)
        time.sleep(2)
    return [s.get("name") for s in left]
