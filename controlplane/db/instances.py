"""Instances, faults and instance actions of a cell database.

Follows Nova's ``nova.db.main.api`` instance functions: soft delete
(``deleted = id``), ``read_deleted`` = ``"no" | "yes" | "only"``,
``instance_update_and_get_original`` with ``expected_task_state`` as a
compare-and-swap, ``instance_fault_create`` and the instance action
records behind ``os-instance-actions``.

Instance dicts have every column of ``instances``; the JSON column
``metadata`` is returned under the key ``"metadata"``.
"""
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane import exception
from controlplane.db import paging
from controlplane.db.engine import retry_on_db_error, row_to_dict
from controlplane.db.models_cell import (Instance, InstanceAction,
                                         InstanceActionEvent, InstanceFault)
from controlplane.db.paging import as_list as _as_list, in_clause as _in_clause
from controlplane.db.services import utcnow

LOG = logging.getLogger(__name__)

_t = Instance.__table__
_faults = InstanceFault.__table__
_actions = InstanceAction.__table__
_events = InstanceActionEvent.__table__

COLUMNS = frozenset(c.name for c in _t.c)

# Statements of the boot path, built once and run with bound parameters
# (building a SELECT of every instance column per call costs more CPU than
# the round trip).
_BY_UUID = {
    "no": sa.select(_t).where(_t.c.uuid == sa.bindparam("b_uuid"), _t.c.deleted == 0),
    "yes": sa.select(_t).where(_t.c.uuid == sa.bindparam("b_uuid")),
    "only": sa.select(_t).where(_t.c.uuid == sa.bindparam("b_uuid"), _t.c.deleted != 0),
}
_FIND_ACTION = (sa.select(_actions)
                .where(_actions.c.instance_uuid == sa.bindparam("b_uuid"),
                       _actions.c.request_id == sa.bindparam("b_request_id"))
                .order_by(_actions.c.id.desc()))
_EVENT_BY_ID = sa.select(_events).where(_events.c.id == sa.bindparam("b_id"))
_NEWEST_EVENT = (sa.select(_events)
                 .where(_events.c.action_id == sa.bindparam("b_action_id"),
                        _events.c.event == sa.bindparam("b_event"))
                 .order_by(_events.c.finish_time.is_(None).desc(), _events.c.id.desc()))
_INSERT_EVENT = _events.insert()
_INSERT_INSTANCE = _t.insert()
_INSERT_ACTION = _actions.insert()
_FINISH_EVENT = _events.update().where(_events.c.id == sa.bindparam("b_id")).values(
    finish_time=sa.bindparam("b_finish_time"), result=sa.bindparam("b_result"),
    traceback=sa.bindparam("b_traceback"))
#: keys list_instances accepts as sort keys
SORT_KEYS = frozenset(COLUMNS - {"flavor", "metadata", "system_metadata", "user_data"})


class InstanceNotFound(exception.NotFound):
    """No such instance in this cell (HTTP 404)."""

    def __init__(self, instance_uuid):
        super().__init__("Instance %s could not be found." % instance_uuid)
        self.instance_uuid = instance_uuid


class UnexpectedTaskStateError(exception.Conflict):
    """The compare-and-swap of :func:`update_instance` failed (HTTP 409).

    :ivar expected: dict of the expected ``task_state``/``vm_state`` lists.
    :ivar actual: dict of the ``task_state`` and ``vm_state`` found.
    """
    def __init__(self, instance_uuid, expected, actual):
        super().__init__("Conflict updating instance %s. Expected: %s. Actual: %s"
                         % (instance_uuid, expected, actual))
        self.instance_uuid = instance_uuid
        self.expected = expected
        self.actual = actual


class UnexpectedDeletingTaskStateError(UnexpectedTaskStateError):
    """The CAS failed because the instance is being deleted (Nova's name)."""


#: The ``marker`` of a paginated list is not in this cell (HTTP 400).
MarkerNotFound = exception.MarkerNotFound


def _deleted_clause(read_deleted):
    if read_deleted == "no":
        return _t.c.deleted == 0
    if read_deleted == "only":
        return _t.c.deleted != 0
    if read_deleted == "yes":
        return sa.true()
    raise ValueError("read_deleted must be 'no', 'yes' or 'only', not %r" % read_deleted)


def _clean_values(values):
    out = {k: v for k, v in values.items() if k in COLUMNS}
    if "metadata_" in values and "metadata" not in out:
        out["metadata"] = values["metadata_"]
    return out


@retry_on_db_error
def create_instance(engine, values, action=None, return_row=True):
    """Insert an instance; ``values`` must hold ``uuid``, ``project_id``,
    ``user_id`` and ``flavor`` (the flavor snapshot dict). Unknown keys are
    ignored. Idempotent on ``uuid``: when the instance already exists (a
    redelivered message) the existing row is returned unchanged.

    :param action: None, or ``{"action", "request_id", "user_id",
        "project_id"}``: the instance action of the request, recorded as
        :func:`record_action` does (one per request) — in the same
        transaction as the insert when the instance is new.
    :param return_row: False returns the values inserted instead of reading
        the new row back (no ``id`` nor database defaults in it); an
        existing instance is always read.
    :returns: the instance dict.
    """
    row = _clean_values(values)
    row.setdefault("metadata", {})
    row.setdefault("system_metadata", {})
    row.setdefault("deleted", 0)
    try:
        with engine.begin() as conn:
            conn.execute(_INSERT_INSTANCE, row)
            if action is not None:
                # a new instance has no action yet: no lookup needed
                conn.execute(_INSERT_ACTION, {
                    "action": action["action"], "instance_uuid": row["uuid"],
                    "request_id": action.get("request_id"),
                    "user_id": action.get("user_id"),
                    "project_id": action.get("project_id"),
                    "message": action.get("message"), "start_time": utcnow()})
            if not return_row:
                return dict(row)
            got = conn.execute(_BY_UUID["yes"], {"b_uuid": row["uuid"]}).first()
        return row_to_dict(got)
    except sa_exc.IntegrityError:
        LOG.info("instance %s already exists; create is a no-op", row.get("uuid"))
    if action is not None:
        record_action(engine, row["uuid"], action["action"], action.get("request_id"),
                      action.get("user_id"), action.get("project_id"),
                      action.get("message"))
    with engine.connect() as conn:
        got = conn.execute(_BY_UUID["yes"], {"b_uuid": row["uuid"]}).first()
    return row_to_dict(got)


@retry_on_db_error
def get_instance(engine, instance_uuid, read_deleted="no"):
    """The instance dict; raises InstanceNotFound.

    :param read_deleted: ``"no"`` (default) hides soft-deleted rows,
        ``"yes"`` shows them too, ``"only"`` shows only them.
    """
    if read_deleted not in _BY_UUID:
        _deleted_clause(read_deleted)   # raises ValueError
    with engine.connect() as conn:
        row = conn.execute(_BY_UUID[read_deleted], {"b_uuid": instance_uuid}).first()
    if row is None:
        raise InstanceNotFound(instance_uuid)
    return row_to_dict(row)


def _apply_filters(query, filters):
    filters = dict(filters or {})
    for key, value in filters.items():
        if value is None:
            continue
        if key == "uuid":
            query = query.where(_t.c.uuid.in_(_as_list(value)))
        elif key in ("name", "display_name"):
            # Nova matches the name as a regular expression; LIKE covers
            # the common substring case portably.
            query = query.where(_t.c.display_name.like("%" + str(value) + "%"))
        elif key in ("changes-since", "changes_since"):
            query = query.where(_t.c.updated_at >= value)
        elif key in ("changes-before", "changes_before"):
            query = query.where(_t.c.updated_at <= value)
        elif key in ("image", "image_ref"):
            query = query.where(_t.c.image_ref == value)
        elif key == "flavor":
            query = query.where(_t.c.flavor["flavorid"].as_string() == str(value))
        elif key == "host":
            query = query.where(_t.c.host.in_(_as_list(value)))
        elif key in ("vm_state", "task_state"):
            query = query.where(_in_clause(_t.c[key], _as_list(value)))
        elif key == "deleted":
            continue  # handled by read_deleted
        elif key in COLUMNS:
            query = query.where(_t.c[key].in_(_as_list(value)))
        else:
            raise ValueError("unknown instance filter %r" % key)
    return query


@retry_on_db_error
def list_instances(engine, project_id=None, filters=None, limit=None, marker=None,
                   sort=None, read_deleted="no"):
    """Instances of this cell as dicts, paginated like Nova's
    ``instance_get_all_by_filters_sort``.

    :param project_id: only this project's instances (None: all projects).
    :param filters: dict; keys ``uuid`` (list), ``name`` (substring),
        ``changes-since``/``changes-before`` (datetime), ``image``,
        ``flavor`` (flavorid), ``host``, ``vm_state``/``task_state`` (value
        or list, None allowed), or any other column for equality.
    :param limit: most rows returned (None: all).
    :param marker: uuid of the last instance of the previous page; raises
        MarkerNotFound when it is not in this cell.
    :param sort: list of ``(key, "asc"|"desc")``; default
        ``[("created_at", "desc")]`` (+ ``id`` as tie-break).
    """
    sort = paging.normalise_sort(sort, SORT_KEYS)
    query = sa.select(_t).where(_deleted_clause(read_deleted))
    if project_id is not None:
        query = query.where(_t.c.project_id == project_id)
    query = _apply_filters(query, filters)
    with engine.connect() as conn:
        if marker is not None:
            mrow = conn.execute(sa.select(_t).where(_t.c.uuid == marker)).first()
            if mrow is None:
                raise MarkerNotFound(marker=marker)
            query = query.where(paging.marker_clause(_t, sort, row_to_dict(mrow)))
        order = [(_t.c[k].asc() if d == "asc" else _t.c[k].desc()) for k, d in sort]
        query = query.order_by(*order)
        if limit is not None:
            query = query.limit(int(limit))
        return [row_to_dict(r) for r in conn.execute(query)]


@retry_on_db_error
def list_instances_by_host(engine, hosts, read_deleted="no"):
    """Instances whose ``host`` is one of ``hosts`` (str or list)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_t).where(
            _t.c.host.in_(_as_list(hosts)), _deleted_clause(read_deleted)).order_by(_t.c.id))
        return [row_to_dict(r) for r in rows]


_update_statements = {}
#: distinct UPDATE shapes kept (callers use a handful; this only bounds memory)
_UPDATE_STATEMENTS_MAX = 512


def _update_statement(keys, exp_task, exp_vm, exp_host=None):
    """The compare-and-swap UPDATE of :func:`update_instance` for these
    value keys and expected states (and hosts), built once per shape:
    values are bound as ``v_<column>``, the uuid as ``b_uuid``."""
    cache_key = (keys, exp_task, exp_vm, exp_host)
    stmt = _update_statements.get(cache_key)
    if stmt is None:
        where = [_t.c.uuid == sa.bindparam("b_uuid"), _t.c.deleted == 0]
        if exp_task is not None:
            where.append(_in_clause(_t.c.task_state, list(exp_task)))
        if exp_vm is not None:
            where.append(_in_clause(_t.c.vm_state, list(exp_vm)))
        if exp_host is not None:
            where.append(_in_clause(_t.c.host, list(exp_host)))
        stmt = _t.update().where(*where).values(
            {k: sa.bindparam("v_" + k, type_=_t.c[k].type) for k in keys})
        if len(_update_statements) < _UPDATE_STATEMENTS_MAX:
            _update_statements[cache_key] = stmt
    return stmt


@retry_on_db_error
def update_instance(engine, instance_uuid, values, expected_vm_state=None,
                    expected_task_state=None, return_row=True, expected_host=None,
                    start_event=None, finish_event=None):
    """Update a (not deleted) instance as a compare-and-swap.

    ``expected_task_state`` / ``expected_vm_state``: None means "do not
    check"; a value or a list means the current state must be one of them,
    where a None *inside* the list means "no task" (Nova's
    ``expected_task_state=[None]``). The check and the write are one
    ``UPDATE ... WHERE uuid = :u AND task_state IN (...)``, the
    serialisation point Galera certifies.

    The instance action event of the step can be written in the same
    transaction (one commit instead of two; Nova's
    ``wrap_instance_event`` records it around the step):

    :param expected_host: None, or the hosts (list) the instance must be on
        for the update to match (a compute answering for several nodes).
    :param start_event: None, or ``{"request_id", "event", "host",
        "action", "user_id", "project_id"}``: when the update matched, start
        that event of the request's action (the action is created, named
        ``action``, when the request has none); its id is stored in the
        dict under ``"id"``.
    :param finish_event: None, or ``{"id", "result", "traceback"}``: finish
        that event (``result`` ``"Success"``/``"Error"``, as
        :func:`record_action_event`) whether or not the update matched.
    :param return_row: False skips reading the row back when the update
        matched (the function then returns None); errors are the same.
    :returns: the updated instance dict (None with ``return_row=False``).
    :raises InstanceNotFound: no such (non-deleted) instance.
    :raises UnexpectedTaskStateError: the states did not match (409);
        ``UnexpectedDeletingTaskStateError`` when the task is ``deleting``.
        Its ``actual`` has the ``host`` too when ``expected_host`` was given.
    """
    vals = _clean_values(values)
    vals.pop("uuid", None)
    vals.pop("id", None)
    vals["updated_at"] = utcnow()
    exp_task = _as_list(expected_task_state)
    exp_vm = _as_list(expected_vm_state)
    exp_host = _as_list(expected_host)
    stmt = _update_statement(tuple(sorted(vals)),
                             None if exp_task is None else tuple(exp_task),
                             None if exp_vm is None else tuple(exp_vm),
                             None if exp_host is None else tuple(exp_host))
    params = {"v_" + k: v for k, v in vals.items()}
    params["b_uuid"] = instance_uuid
    with engine.begin() as conn:
        if finish_event is not None:
            _finish_event_in(conn, finish_event)
        res = conn.execute(stmt, params)
        if res.rowcount == 1 and start_event is not None:
            start_event["id"] = _start_event_in(conn, instance_uuid, start_event)
        if not return_row and res.rowcount == 1:
            return None
        row = conn.execute(_BY_UUID["no"], {"b_uuid": instance_uuid}).first()
    if row is None:
        raise InstanceNotFound(instance_uuid)
    row = row_to_dict(row)
    if res.rowcount == 0:
        actual = {"task_state": row["task_state"], "vm_state": row["vm_state"]}
        if exp_host is not None:
            actual["host"] = row["host"]
        expected = {"task_state": exp_task, "vm_state": exp_vm}
        if exp_host is not None:
            expected["host"] = exp_host
        if row["task_state"] == "deleting":
            raise UnexpectedDeletingTaskStateError(instance_uuid, expected, actual)
        raise UnexpectedTaskStateError(instance_uuid, expected, actual)
    return row


@retry_on_db_error
def soft_delete_instance(engine, instance_uuid):
    """Mark the instance deleted the Nova way: ``deleted = id``,
    ``deleted_at = terminated_at = now``, ``vm_state = "deleted"``,
    ``task_state = None``. Idempotent: deleting a deleted instance returns
    its deleted row; raises InstanceNotFound when it never existed."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(_t.update().where(_t.c.uuid == instance_uuid, _t.c.deleted == 0).values(
            deleted=_t.c.id, deleted_at=now, terminated_at=now, vm_state="deleted",
            task_state=None, updated_at=now))
        row = conn.execute(sa.select(_t).where(_t.c.uuid == instance_uuid)).first()
    if row is None:
        raise InstanceNotFound(instance_uuid)
    return row_to_dict(row)


@retry_on_db_error
def add_fault(engine, instance_uuid, code, message, details=None, host=None):
    """Record an ``instance_faults`` row (shown as the server's ``fault``).

    :param code: HTTP-like code (500 for build failures, as Nova).
    :param message: short text, cut to 255 characters.
    :param details: long text (traceback) or None.
    """
    with engine.begin() as conn:
        res = conn.execute(_faults.insert().values(
            instance_uuid=instance_uuid, code=int(code), message=str(message)[:255],
            details=details, host=host, created_at=utcnow()))
        fid = res.inserted_primary_key[0]
        return row_to_dict(conn.execute(sa.select(_faults).where(_faults.c.id == fid)).first())


def get_latest_fault(engine, instance_uuid):
    """The newest fault dict of the instance, or None."""
    return get_latest_faults(engine, [instance_uuid]).get(instance_uuid)


@retry_on_db_error
def get_latest_faults(engine, instance_uuids):
    """``{instance_uuid: newest fault dict}`` for those that have one."""
    uuids = list(instance_uuids)
    if not uuids:
        return {}
    out = {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_faults).where(_faults.c.instance_uuid.in_(uuids))
                            .order_by(_faults.c.id))
        for r in rows:
            out[r.instance_uuid] = row_to_dict(r)
    return out


def _find_action(conn, instance_uuid, request_id):
    return conn.execute(_FIND_ACTION, {"b_uuid": instance_uuid,
                                       "b_request_id": request_id}).first()


def _start_event_in(conn, instance_uuid, ev):
    """Insert the event ``ev`` (see :func:`update_instance`) under the
    action of its request, creating the action when missing, inside the
    caller's transaction. :returns: the new event's id."""
    act = _find_action(conn, instance_uuid, ev.get("request_id"))
    if act is None:
        conn.execute(_INSERT_ACTION, {
            "action": ev.get("action") or ev["event"], "instance_uuid": instance_uuid,
            "request_id": ev.get("request_id"), "user_id": ev.get("user_id"),
            "project_id": ev.get("project_id"), "message": None, "start_time": utcnow()})
        act = _find_action(conn, instance_uuid, ev.get("request_id"))
    res = conn.execute(_INSERT_EVENT, {"action_id": act.id, "event": ev["event"],
                                       "start_time": utcnow(), "host": ev.get("host")})
    return res.inserted_primary_key[0]


def _finish_event_in(conn, ev):
    """Finish the event ``ev["id"]`` inside the caller's transaction; on a
    result other than Success mark its action ``message = "Error"`` too."""
    result = ev.get("result") or "Success"
    conn.execute(_FINISH_EVENT, {"b_id": ev["id"], "b_finish_time": utcnow(),
                                 "b_result": result, "b_traceback": ev.get("traceback")})
    if result != "Success":
        action_id = sa.select(_events.c.action_id).where(_events.c.id == ev["id"])
        conn.execute(_actions.update().where(_actions.c.id == action_id.scalar_subquery())
                     .values(message="Error"))


@retry_on_db_error
def record_action(engine, instance_uuid, action, request_id, user_id=None,
                  project_id=None, message=None):
    """Start an instance action (``os-instance-actions``): one row per
    (instance, request_id). Idempotent: a second call for the same request
    returns the existing action. :returns: the action dict."""
    with engine.begin() as conn:
        row = _find_action(conn, instance_uuid, request_id)
        if row is None:
            conn.execute(_INSERT_ACTION, {
                "action": action, "instance_uuid": instance_uuid,
                "request_id": request_id, "user_id": user_id, "project_id": project_id,
                "message": message, "start_time": utcnow()})
            row = _find_action(conn, instance_uuid, request_id)
        return row_to_dict(row)


@retry_on_db_error
def finish_action(engine, instance_uuid, request_id, message=None):
    """Set the action's ``finish_time`` (and ``message``, e.g. ``"Error"``)."""
    with engine.begin() as conn:
        values = {"finish_time": utcnow()}
        if message is not None:
            values["message"] = message
        conn.execute(_actions.update().where(
            _actions.c.instance_uuid == instance_uuid,
            _actions.c.request_id == request_id).values(**values))


@retry_on_db_error
def record_action_event(engine, instance_uuid, request_id, event, finish=False,
                        result=None, traceback=None, host=None, action=None,
                        user_id=None, project_id=None, event_id=None, return_row=True):
    """Start or finish an event of the action of ``request_id``.

    ``finish=False`` inserts an event (``start_time`` now), creating the
    action named ``action`` first when the request has none (a service
    acting without an API call). ``finish=True`` sets ``finish_time`` and
    ``result`` (``"Success"``/``"Error"``) on the newest unfinished event of
    that name — or on ``event_id``, the id the start returned, without
    looking it up — and marks the action ``message = "Error"`` on error.

    :param return_row: False returns only the event id (no read back).
    :returns: the event dict (its ``id`` only with ``return_row=False``).
    """
    result = result or "Success"
    with engine.begin() as conn:
        act = None
        eid = None
        if finish and event_id is not None:
            res = conn.execute(_FINISH_EVENT, {"b_id": event_id, "b_finish_time": utcnow(),
                                               "b_result": result,
                                               "b_traceback": traceback})
            if res.rowcount == 1:
                eid = event_id
        if eid is None or result != "Success":
            act = _find_action(conn, instance_uuid, request_id)
            if act is None:
                conn.execute(_actions.insert().values(
                    action=action or event, instance_uuid=instance_uuid,
                    request_id=request_id, user_id=user_id, project_id=project_id,
                    start_time=utcnow()))
                act = _find_action(conn, instance_uuid, request_id)
        if not finish:
            res = conn.execute(_INSERT_EVENT, {"action_id": act.id, "event": event,
                                               "start_time": utcnow(), "host": host})
            eid = res.inserted_primary_key[0]
        elif eid is None:
            ev = conn.execute(_NEWEST_EVENT, {"b_action_id": act.id,
                                              "b_event": event}).first()
            if ev is None:
                res = conn.execute(_INSERT_EVENT, {"action_id": act.id, "event": event,
                                                   "start_time": utcnow(), "host": host})
                eid = res.inserted_primary_key[0]
            else:
                eid = ev.id
            conn.execute(_FINISH_EVENT, {"b_id": eid, "b_finish_time": utcnow(),
                                         "b_result": result, "b_traceback": traceback})
        if finish and result != "Success":
            conn.execute(_actions.update().where(_actions.c.id == act.id)
                         .values(message="Error"))
        if not return_row:
            return {"id": eid}
        return row_to_dict(conn.execute(_EVENT_BY_ID, {"b_id": eid}).first())


@retry_on_db_error
def event_succeeded(engine, instance_uuid, request_id, event):
    """True when ``event`` of the request's action finished with Success:
    lets a handler recognise a redelivered message it already completed."""
    with engine.connect() as conn:
        act = _find_action(conn, instance_uuid, request_id)
        if act is None:
            return False
        row = conn.execute(sa.select(_events.c.id).where(
            _events.c.action_id == act.id, _events.c.event == event,
            _events.c.result == "Success")).first()
        return row is not None


@retry_on_db_error
def list_actions(engine, instance_uuid):
    """Actions of the instance, newest first (dicts)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_actions).where(_actions.c.instance_uuid == instance_uuid)
                            .order_by(_actions.c.start_time.desc(), _actions.c.id.desc()))
        return [row_to_dict(r) for r in rows]


@retry_on_db_error
def get_action(engine, instance_uuid, request_id):
    """The action of ``request_id`` with its ``events`` list, or None."""
    with engine.connect() as conn:
        act = _find_action(conn, instance_uuid, request_id)
        if act is None:
            return None
        out = row_to_dict(act)
        rows = conn.execute(sa.select(_events).where(_events.c.action_id == act.id)
                            .order_by(_events.c.id))
        out["events"] = [row_to_dict(r) for r in rows]
        return out


@retry_on_db_error
def get_instance_hosts(engine, instance_uuids):
    """``{uuid: host}`` of the non-deleted instances among ``instance_uuids``
    (for SameHostFilter / DifferentHostFilter and server groups)."""
    uuids = list(instance_uuids or [])
    if not uuids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_t.c.uuid, _t.c.host).where(
            _t.c.uuid.in_(uuids), _t.c.deleted == 0))
        return {r.uuid: r.host for r in rows}


@retry_on_db_error
def count_instances_by_host(engine, hosts=None):
    """``{host: number of non-deleted instances}`` (optionally for ``hosts``)."""
    query = (sa.select(_t.c.host, sa.func.count()).where(_t.c.deleted == 0,
                                                          _t.c.host.is_not(None))
             .group_by(_t.c.host))
    if hosts is not None:
        query = query.where(_t.c.host.in_(_as_list(hosts)))
    with engine.connect() as conn:
        return {h: n for h, n in conn.execute(query)}
