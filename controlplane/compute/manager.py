"""The compute service's RPC endpoint (Nova's ``nova.compute.manager.ComputeManager``).

Topic ``compute.<node>`` for every node the driver presents. Every handler
is idempotent (a message can be delivered twice) and moves the instance
through its states with compare-and-swap updates on ``task_state``
(:func:`controlplane.db.instances.update_instance`), as Nova's
``instance.save(expected_task_state=...)``:

* build: ``building/scheduling|None`` → ``building/spawning`` →
  ``active/None`` (power RUNNING); on a driver failure the claim is
  released, a fault recorded and the build rescheduled through the
  conductor (``task_state`` back to ``scheduling``, host/node cleared),
  or put in ERROR when ``[scheduler] max_attempts`` is 1.
* stop / start / reboot: the API sets ``powering-off`` / ``powering-on`` /
  ``rebooting[_hard]``; the compute finishes them.
* terminate: ``deleting`` → driver destroy, claim released, soft delete
  (``vm_state deleted``), the instance mapping queued for delete. A
  delete left in ``deleting`` (message lost, or its handler failed: the
  RPC server acks it anyway) is completed by the periodic
  :meth:`ComputeManager.complete_stale_deletes`.

Each handler records an instance action event named as Nova's
``wrap_instance_event`` does (``compute_stop_instance``, ...).
"""
import contextlib
import logging
import traceback

from controlplane import stale_deletes
from controlplane.compute import states, volume_attach
from controlplane.compute.driver import load_driver
from controlplane.compute.resource_tracker import ResourceTracker
from controlplane.conf import CONF
from controlplane.context import RequestContext
from controlplane.db import cells as db_cells
from controlplane.db import compute_nodes as cn_db
from controlplane.db import engine as db_engine
from controlplane.db import instances as inst_db
from controlplane.db.services import utcnow

LOG = logging.getLogger(__name__)

SOFT_REBOOT_STATES = [states.REBOOTING, states.REBOOT_PENDING, states.REBOOT_STARTED]
HARD_REBOOT_STATES = [states.REBOOTING_HARD, states.REBOOT_PENDING_HARD,
                      states.REBOOT_STARTED_HARD]


class ComputeManager:
    """Endpoint of ``controlplane-compute``.

    :param host: ``CONF.host``; the driver's nodes are ``host``,
        ``host-1``, ... (see :mod:`controlplane.compute.fake`).
    :param driver: a :class:`~controlplane.compute.driver.ComputeDriver`
        (default: ``[compute] compute_driver``).
    :param engine: this cell's database engine (default ``[database]``).
    :param conductor_api: a ConductorAPI for reschedules.
    :param cells_db: module with ``queue_instance_mapping_for_delete``
        (default :mod:`controlplane.db.cells`); tests pass fakes.
    """

    def __init__(self, host=None, driver=None, engine=None, conductor_api=None,
                 cells_db=db_cells):
        self.host = host or CONF.host
        self.driver = driver or load_driver(CONF.compute.compute_driver, self.host)
        self.engine = engine if engine is not None else db_engine.cell_engine()
        if conductor_api is None:
            from controlplane.conductor.rpcapi import ConductorAPI
            conductor_api = ConductorAPI()
        self.conductor_api = conductor_api
        self.cells_db = cells_db
        self.tracker = ResourceTracker(self.driver, self.engine)

    # -- helpers -----------------------------------------------------------
    @property
    def hosts(self):
        """Host names this service answers for (the driver's nodes)."""
        return list(self.driver.get_available_nodes())

    def _get(self, instance_uuid):
        try:
            return inst_db.get_instance(self.engine, instance_uuid)
        except inst_db.InstanceNotFound:
            return None

    @contextlib.contextmanager
    def _event(self, ctxt, instance, event, action):
        """Record ``event`` start/finish under the action of the request."""
        kwargs = dict(host=self.host, action=action, user_id=ctxt.user_id,
                      project_id=ctxt.project_id, return_row=False)
        try:
            started = inst_db.record_action_event(self.engine, instance["uuid"],
                                                  ctxt.request_id, event, **kwargs)
            # the finish updates this very event without looking it up
            kwargs["event_id"] = started["id"]
        except Exception:  # noqa: BLE001 - bookkeeping must not stop the action
            LOG.exception("could not record event %s of %s", event, instance["uuid"])
        try:
            yield
        except Exception:
            self._finish_event(ctxt, instance, event, "Error", traceback.format_exc(), kwargs)
            raise
        self._finish_event(ctxt, instance, event, "Success", None, kwargs)

    def _finish_event(self, ctxt, instance, event, result, tb, kwargs):
        try:
            inst_db.record_action_event(self.engine, instance["uuid"], ctxt.request_id,
                                        event, finish=True, result=result,
                                        traceback=tb, **kwargs)
        except Exception:  # noqa: BLE001
            LOG.exception("could not finish event %s of %s", event, instance["uuid"])

    def _already_done(self, ctxt, instance_uuid, event):
        try:
            return inst_db.event_succeeded(self.engine, instance_uuid, ctxt.request_id, event)
        except Exception:  # noqa: BLE001
            return False

    def _set_error(self, instance_uuid, expected_task_state=None):
        try:
            return inst_db.update_instance(
                self.engine, instance_uuid,
                {"vm_state": states.ERROR, "task_state": None},
                expected_task_state=expected_task_state)
        except (inst_db.InstanceNotFound, inst_db.UnexpectedTaskStateError) as exc:
            LOG.info("instance %s not set to ERROR: %s", instance_uuid, exc)
            return None

    # -- start-up and periodic tasks --------------------------------------
    def init_host(self):
        """At service start (before RPC is consumed): hand the driver the
        instances of this host and finish what a crash interrupted, as
        Nova's ``_init_instance``: a spawn in flight goes to ERROR, a delete
        is completed, power actions are redone. Instances still in
        ``scheduling`` are left alone: their build message is still queued."""
        try:
            instances = inst_db.list_instances_by_host(self.engine, self.hosts)
        except Exception:  # noqa: BLE001
            LOG.exception("could not list the instances of %s at start", self.host)
            return
        self.driver.init_host(self.host, instances)
        ctxt = RequestContext.admin()
        for inst in instances:
            try:
                self._init_instance(ctxt, inst)
            except Exception:  # noqa: BLE001
                LOG.exception("recovery of instance %s failed", inst["uuid"])

    def _init_instance(self, ctxt, inst):
        uuid, task = inst["uuid"], inst["task_state"]
        if task == states.DELETING:
            LOG.info("instance %s was being deleted when %s stopped; finishing the delete",
                     uuid, self.host)
            self.terminate_instance(ctxt, uuid)
        elif inst["vm_state"] == states.BUILDING and task == states.SPAWNING:
            LOG.warning("instance %s was spawning when %s stopped; setting it to ERROR",
                        uuid, self.host)
            self.driver.destroy(ctxt, inst)
            cn_db.release(self.engine, uuid)
            inst_db.add_fault(self.engine, uuid, 500,
                              "Instance build was interrupted by a restart of compute "
                              "host %s" % self.host, host=self.host)
            self._set_error(uuid, expected_task_state=[states.SPAWNING])
        elif task == states.POWERING_OFF:
            self.stop_instance(ctxt, uuid)
        elif task == states.POWERING_ON:
            self.start_instance(ctxt, uuid)
        elif task in SOFT_REBOOT_STATES + HARD_REBOOT_STATES:
            self.reboot_instance(ctxt, uuid, reboot_type="HARD")

    def update_available_resource(self, ctxt=None):
        """Periodic task: report every node's totals to ``compute_nodes``."""
        return self.tracker.update_available_resource()

    def complete_stale_deletes(self, ctxt=None):
        """Periodic task: finish the deletes of this host's instances left in
        ``task_state`` ``deleting`` for more than ``[compute]
        stale_delete_seconds`` (by ``updated_at``).

        This is the delete completion of Nova's ``_init_instance`` (see
        :meth:`init_host`), run periodically rather than only at service
        start: our RPC server acks a message even when its handler raised,
        so a ``terminate_instance`` that failed (the database was down) or a
        cast that was lost would otherwise leave the instance in
        ``deleting`` until the compute restarts. :meth:`terminate_instance`
        is idempotent; it sets ``deleting`` again, which moves
        ``updated_at``, so a delete that keeps failing is retried once per
        ``stale_delete_seconds``. One instance's failure does not stop the
        others.

        :returns: the uuids whose delete was completed.
        """
        ctxt = RequestContext.coerce(ctxt)
        return stale_deletes.redo_stale_deletes(
            inst_db.list_instances_by_host(self.engine, self.hosts),
            state_key="task_state", id_key="uuid",
            seconds=CONF.compute.stale_delete_seconds,
            redo=lambda uuid: self.terminate_instance(ctxt, uuid), kind="instance")

    def get_periodic_tasks(self):
        """``[(interval_seconds, callable)]`` the Service runs in threads."""
        return [(CONF.compute.resource_update_interval, self.update_available_resource),
                (CONF.compute.stale_delete_interval, self.complete_stale_deletes)]

    # -- build ---------------------------------------------------------------
    def build_and_run_instance(self, ctxt, instance_uuid, request_spec=None,
                               alternates=None, attempt=1, **kwargs):
        """Spawn the instance the conductor placed on one of our nodes.

        Idempotent: an instance already past ``building``, deleted, placed
        on another host, or already spawning (a duplicate delivery) is left
        alone.
        """
        ctxt = RequestContext.coerce(ctxt)
        request_spec = request_spec or {}
        hosts = self.hosts
        event_name = "compute__do_build_and_run_instance"
        event = {"request_id": ctxt.request_id, "event": event_name, "action": "create",
                 "host": self.host, "user_id": ctxt.user_id, "project_id": ctxt.project_id}
        try:
            # One transaction: building/scheduling|None on one of our nodes
            # -> spawning (compare-and-swap), and the start of the event.
            inst = inst_db.update_instance(
                self.engine, instance_uuid, {"task_state": states.SPAWNING},
                expected_vm_state=[states.BUILDING],
                expected_task_state=[states.SCHEDULING, None],
                expected_host=hosts, start_event=event)
        except inst_db.InstanceNotFound:
            LOG.info("instance %s is gone (deleted before its build); releasing its claim",
                     instance_uuid)
            cn_db.release(self.engine, instance_uuid)
            return
        except inst_db.UnexpectedTaskStateError as exc:
            actual = exc.actual or {}
            if actual.get("host") not in hosts:
                LOG.warning("build of %s asked for host %s, which is not served here (%s); "
                            "ignoring", instance_uuid, actual.get("host"), ", ".join(hosts))
            elif actual.get("vm_state") != states.BUILDING:
                LOG.info("instance %s is already %s; build is a no-op",
                         instance_uuid, actual.get("vm_state"))
            else:
                LOG.info("not building %s: %s", instance_uuid, exc)
            return
        image_meta = dict(request_spec.get("image") or {})
        image_meta.setdefault("id", inst.get("image_ref"))
        image_meta.setdefault("properties", {})
        LOG.info("building instance %s on %s (attempt %s)", instance_uuid, inst["node"],
                 attempt)
        try:
            self.driver.spawn(ctxt, inst, image_meta)
        except Exception as exc:  # noqa: BLE001 - any driver error fails the build
            LOG.warning("spawn of %s on %s failed: %s", instance_uuid, inst["node"], exc)
            self._finish_event(ctxt, inst, event_name, "Error", traceback.format_exc(),
                               dict(host=self.host, action="create", user_id=ctxt.user_id,
                                    project_id=ctxt.project_id, return_row=False,
                                    event_id=event.get("id")))
            self._build_failed(ctxt, inst, request_spec, alternates, attempt, exc)
            return
        try:
            # One transaction: the event finishes (Success) and the instance
            # goes spawning -> active.
            inst_db.update_instance(
                self.engine, instance_uuid,
                {"vm_state": states.ACTIVE, "task_state": None,
                 "power_state": states.RUNNING, "launched_at": utcnow()},
                expected_task_state=[states.SPAWNING], return_row=False,
                finish_event={"id": event["id"], "result": "Success"})
        except (inst_db.UnexpectedTaskStateError, inst_db.InstanceNotFound) as exc:
            LOG.info("instance %s was deleted while spawning (%s); cleaning up",
                     instance_uuid, exc)
            self.driver.destroy(ctxt, inst)
            return
        LOG.info("instance %s is ACTIVE on %s", instance_uuid, inst["node"])

    def _build_failed(self, ctxt, inst, request_spec, alternates, attempt, exc):
        uuid = inst["uuid"]
        try:
            self.driver.destroy(ctxt, inst)
        except Exception:  # noqa: BLE001
            LOG.exception("cleanup of failed spawn of %s failed", uuid)
        cn_db.release(self.engine, uuid)
        inst_db.add_fault(self.engine, uuid, 500, str(exc) or type(exc).__name__,
                          details=traceback.format_exc(), host=inst["node"])
        if CONF.scheduler.max_attempts > 1:
            try:
                inst_db.update_instance(
                    self.engine, uuid,
                    {"task_state": states.SCHEDULING, "host": None, "node": None},
                    expected_task_state=[states.SPAWNING])
            except (inst_db.UnexpectedTaskStateError, inst_db.InstanceNotFound) as e:
                LOG.info("not rescheduling %s: %s", uuid, e)
                return
            LOG.info("rescheduling %s (attempt %d) with %d alternate(s)", uuid,
                     attempt + 1, len(alternates or []))
            self.conductor_api.build_instances(ctxt, uuid, request_spec,
                                               list(alternates or []), attempt + 1)
        else:
            LOG.warning("build of %s failed and reschedules are disabled; ERROR", uuid)
            self._set_error(uuid, expected_task_state=[states.SPAWNING])

    # -- power actions ---------------------------------------------------------
    def stop_instance(self, ctxt, instance_uuid, **kwargs):
        """Power off: ``vm_state stopped``, power SHUTDOWN, no task."""
        ctxt = RequestContext.coerce(ctxt)
        event = "compute_stop_instance"
        inst = self._get(instance_uuid)
        if inst is None or self._already_done(ctxt, instance_uuid, event):
            return
        if inst["vm_state"] == states.STOPPED and inst["task_state"] is None:
            LOG.info("instance %s is already stopped", instance_uuid)
            return
        with self._event(ctxt, inst, event, "stop"):
            self.driver.power_off(inst)
            self._finish_state(instance_uuid, states.STOPPED, states.SHUTDOWN,
                               [states.POWERING_OFF, None])

    def start_instance(self, ctxt, instance_uuid, **kwargs):
        """Power on: ``vm_state active``, power RUNNING, no task."""
        ctxt = RequestContext.coerce(ctxt)
        event = "compute_start_instance"
        inst = self._get(instance_uuid)
        if inst is None or self._already_done(ctxt, instance_uuid, event):
            return
        if inst["vm_state"] == states.ACTIVE and inst["task_state"] is None:
            LOG.info("instance %s is already running", instance_uuid)
            return
        with self._event(ctxt, inst, event, "start"):
            self.driver.power_on(ctxt, inst)
            self._finish_state(instance_uuid, states.ACTIVE, states.RUNNING,
                               [states.POWERING_ON, None])

    def reboot_instance(self, ctxt, instance_uuid, reboot_type="SOFT", **kwargs):
        """Reboot (``SOFT`` or ``HARD``); ends ``active`` with power RUNNING."""
        ctxt = RequestContext.coerce(ctxt)
        reboot_type = (reboot_type or "SOFT").upper()
        event = "compute_reboot_instance"
        inst = self._get(instance_uuid)
        if inst is None or self._already_done(ctxt, instance_uuid, event):
            return
        hard = reboot_type == "HARD"
        started = states.REBOOT_STARTED_HARD if hard else states.REBOOT_STARTED
        expected = SOFT_REBOOT_STATES + HARD_REBOOT_STATES + [None]
        try:
            inst = inst_db.update_instance(self.engine, instance_uuid,
                                           {"task_state": started},
                                           expected_task_state=expected)
        except (inst_db.UnexpectedTaskStateError, inst_db.InstanceNotFound) as exc:
            LOG.info("not rebooting %s: %s", instance_uuid, exc)
            return
        with self._event(ctxt, inst, event, "reboot"):
            self.driver.reboot(ctxt, inst, reboot_type)
            self._finish_state(instance_uuid, states.ACTIVE, states.RUNNING, [started])

    def _finish_state(self, instance_uuid, vm_state, power_state, expected_task_state):
        try:
            inst_db.update_instance(self.engine, instance_uuid,
                                    {"vm_state": vm_state, "power_state": power_state,
                                     "task_state": None},
                                    expected_task_state=expected_task_state,
                                    return_row=False)
        except (inst_db.UnexpectedTaskStateError, inst_db.InstanceNotFound) as exc:
            LOG.info("instance %s changed meanwhile, not set to %s: %s",
                     instance_uuid, vm_state, exc)

    # -- volumes (the work is in controlplane.compute.volume_attach) -------------
    def attach_volume(self, ctxt, instance_uuid, volume_id, attachment_id, mountpoint,
                      **kwargs):
        """Attach a volume the API reserved (Nova's ``attach_volume``)."""
        ctxt = RequestContext.coerce(ctxt)
        return volume_attach.attach(self.driver, ctxt, self._get(instance_uuid), volume_id,
                                    attachment_id, mountpoint)

    def detach_volume(self, ctxt, instance_uuid, volume_id, attachment_id, **kwargs):
        """Detach a volume the API moved to ``detaching`` (Nova's ``detach_volume``)."""
        ctxt = RequestContext.coerce(ctxt)
        return volume_attach.detach(self.driver, ctxt, self._get(instance_uuid), volume_id,
                                    attachment_id)

    # -- delete ------------------------------------------------------------------
    def terminate_instance(self, ctxt, instance_uuid, **kwargs):
        """Delete: driver destroy, claim released, soft delete
        (``vm_state deleted``), mapping queued for delete. Idempotent: an
        instance already deleted only gets its claim released again."""
        ctxt = RequestContext.coerce(ctxt)
        inst = self._get(instance_uuid)
        if inst is None:
            LOG.info("instance %s already deleted", instance_uuid)
            cn_db.release(self.engine, instance_uuid)
            return
        try:
            inst = inst_db.update_instance(self.engine, instance_uuid,
                                           {"task_state": states.DELETING})
        except inst_db.InstanceNotFound:
            return
        with self._event(ctxt, inst, "compute_terminate_instance", "delete"):
            volume_attach.detach_all(self.driver, ctxt, inst)   # volumes stay whole
            self.driver.destroy(ctxt, inst)
            cn_db.release(self.engine, instance_uuid)
            inst_db.soft_delete_instance(self.engine, instance_uuid)
        try:
            self.cells_db.queue_instance_mapping_for_delete(instance_uuid)
        except Exception:  # noqa: BLE001 - the API DB may be unreachable from here
            LOG.exception("could not queue the mapping of %s for delete", instance_uuid)
        LOG.info("instance %s deleted", instance_uuid)
