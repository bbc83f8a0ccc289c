"""POST /servers/{id}/action: os-start, os-stop, reboot (SOFT/HARD).

Each action sets the instance's task_state with a compare-and-swap on the
allowed vm_states and ``task_state IS NULL`` (HARD reboot also from a soft
reboot in progress), then casts to the instance's host. Two racing
actions never both proceed: the loser gets 409 ``conflictingRequest``
"Cannot '<action>' instance <uuid> while it is in <attr> <state>", Nova's
InstanceInvalidState message.
"""
import logging

import flask

from controlplane.api import common, faults
from controlplane.api.compute import servers
from controlplane.api.schemas import servers as schema
from controlplane.compute import states
from controlplane.db import engine as db_engine
from controlplane.db import instances as db_instances

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("server_actions", __name__)

_compute = None


def compute_api():
    """The process-wide :class:`controlplane.compute.rpcapi.ComputeAPI`."""
    global _compute
    if _compute is None:
        from controlplane.compute.rpcapi import ComputeAPI
        _compute = ComputeAPI()
    return _compute


_SOFT_REBOOT_TASKS = [states.REBOOTING, states.REBOOT_PENDING, states.REBOOT_STARTED]

# action -> (policy, allowed vm_states, allowed task_states, new task_state)
ACTIONS = {
    "os-start": ("start", [states.STOPPED], [None], states.POWERING_ON),
    "os-stop": ("stop", [states.ACTIVE, states.RESCUED, states.ERROR], [None],
                states.POWERING_OFF),
    "reboot:SOFT": ("reboot", [states.ACTIVE, states.STOPPED, states.PAUSED,
                               states.SUSPENDED, states.ERROR], [None],
                    states.REBOOTING),
    "reboot:HARD": ("reboot", [states.ACTIVE, states.STOPPED, states.PAUSED,
                               states.SUSPENDED, states.ERROR],
                    [None] + _SOFT_REBOOT_TASKS + [states.REBOOT_PENDING_HARD],
                    states.REBOOTING_HARD),
}


def invalid_state(action, inst, vm_ok, task_ok):
    """409 with Nova's InstanceInvalidState text naming the offending state."""
    if inst.get("vm_state") not in vm_ok:
        attr, state = "vm_state", inst.get("vm_state")
    else:
        attr, state = "task_state", inst.get("task_state")
    return faults.Conflict("Cannot '%s' instance %s while it is in %s %s" % (
        action, inst["uuid"], attr, state))


def _run(server_id, action, key, reboot_type=None):
    ctxt = common.context()
    policy, vm_ok, task_ok, new_task = ACTIONS[key]
    inst, cell, _m = servers.lookup(server_id, rule=servers.P % policy)
    if cell is None or cell["uuid"] == db_engine.CELL0_UUID or not inst.get("host"):
        raise invalid_state(action, inst, vm_ok if inst.get("host") else [], task_ok)
    if inst.get("vm_state") not in vm_ok or inst.get("task_state") not in task_ok:
        raise invalid_state(action, inst, vm_ok, task_ok)
    engine = db_engine.cell_engine(cell)
    try:
        inst = db_instances.update_instance(engine, server_id, {"task_state": new_task},
                                            expected_vm_state=vm_ok,
                                            expected_task_state=task_ok)
    except db_instances.UnexpectedTaskStateError as exc:
        raise invalid_state(action, dict(inst, **(exc.actual or {})), vm_ok, task_ok)
    except db_instances.InstanceNotFound:
        raise faults.NotFound("Instance %s could not be found." % server_id)
    db_instances.record_action(engine, server_id, policy, ctxt.request_id,
                               user_id=ctxt.user_id, project_id=ctxt.project_id)
    api = compute_api()
    url = cell.get("transport_url")
    if key == "os-start":
        api.start_instance(ctxt, inst["host"], server_id, transport_url=url)
    elif key == "os-stop":
        api.stop_instance(ctxt, inst["host"], server_id, transport_url=url)
    else:
        api.reboot_instance(ctxt, inst["host"], server_id, reboot_type=reboot_type,
                            transport_url=url)
    LOG.info("%s of server %s accepted (task_state %s)", action, server_id, new_task)
    return flask.Response(status=202)


@bp.route("/servers/<server_id>/action", methods=["POST"])
def action(server_id):
    """Dispatch on the single key of the body; 202 with no body.

    :raises faults.BadRequest: unknown or malformed action.
    :raises faults.Conflict: wrong vm_state/task_state, or lost a race.
    """
    body = common.json_body()
    if len(body) != 1:
        raise faults.BadRequest("Exactly one action is expected in the body.")
    name = next(iter(body))
    if name == "os-start":
        common.validate(schema.start, body)
        return _run(server_id, "os-start", "os-start")
    if name == "os-stop":
        common.validate(schema.stop, body)
        return _run(server_id, "os-stop", "os-stop")
    if name == "reboot":
        common.validate(schema.reboot, body)
        rtype = body["reboot"]["type"].upper()
        return _run(server_id, "reboot", "reboot:" + rtype, reboot_type=rtype)
    raise faults.BadRequest("There is no such action: %s" % name)
