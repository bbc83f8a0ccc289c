"""The conductor's RPC endpoint (Nova's ``ComputeTaskManager``).

``schedule_and_build_instances`` (Nova's method of the same name), per
instance:

1. skip it if its instance mapping already points at a cell (a redelivered
   message): re-cast the build if the instance is still building on its
   host, else nothing;
2. fill the server group's hosts/members into the request spec;
3. ask the scheduler (one ``select_destinations`` call for the batch);
   the chosen host of each instance is already claimed;
4. on NoValidHost (or any scheduling error) bury the instance in **cell0**:
   ``vm_state error`` with a fault "No valid host was found. ...", mapping
   to cell0, build request deleted;
5. otherwise create the instance in the chosen cell (host, node,
   ``vm_state building``, ``task_state scheduling``), record the ``create``
   action, map it to the cell, delete the build request — if the build
   request was already gone the user deleted the server: the cell instance
   is deleted again and the claim released — and cast
   ``build_and_run_instance`` to ``compute.<host>`` on the cell's
   ``transport_url``.

``build_instances`` reschedules a failed build to the next alternate that
can still be claimed, or ends in ERROR with Nova's MaxRetriesExceeded
fault when none is left or ``[scheduler] max_attempts`` is reached.
"""
import logging
import time
import traceback

from controlplane import exception
from controlplane.compute import states
from controlplane.conf import CONF
from controlplane.context import RequestContext
from controlplane.db import build_requests as db_build_requests
from controlplane.db import cells as db_cells
from controlplane.db import compute_nodes as cn_db
from controlplane.db import engine as db_engine
from controlplane.db import instances as inst_db
from controlplane.db import server_groups as db_server_groups
from controlplane.db.engine import CELL0_UUID
from controlplane.db.services import utcnow

LOG = logging.getLogger(__name__)

#: seconds a cell mapping read by the conductor is reused
CELL_CACHE_TTL = 30.0

NO_VALID_HOST_MSG = "No valid host was found. %s"
MAX_RETRIES_MSG = ("Exceeded maximum number of retries. Exhausted all hosts available "
                   "for retrying build failures for instance %s.")

#: instance keys taken from a build request's serialised instance
_INSTANCE_KEYS = (
    "uuid", "project_id", "user_id", "display_name", "display_description", "hostname",
    "availability_zone", "flavor", "vcpus", "memory_mb", "root_gb", "ephemeral_gb",
    "image_ref", "key_name", "key_data", "user_data", "config_drive", "access_ip_v4",
    "access_ip_v6", "locked", "launch_index", "reservation_id", "metadata",
    "system_metadata", "progress", "created_at")


def _default_host_az(host):
    from controlplane.db import aggregates
    return aggregates.get_host_az(host)


def _exc_type(exc):
    return getattr(exc, "exc_type", None) or type(exc).__name__


def _exc_text(exc):
    return getattr(exc, "value", None) or str(exc)


class ConductorManager:
    """Endpoint of ``controlplane-conductor`` (topic ``conductor``).

    Collaborators are injectable for tests:

    :param scheduler_api: has ``select_destinations(ctxt, request_spec,
        instance_uuids, return_alternates=True)`` (default
        :class:`controlplane.scheduler.rpcapi.SchedulerAPI`).
    :param compute_api: has ``build_and_run_instance(ctxt, host,
        instance_uuid, request_spec, alternates, attempt, transport_url)``
        (default :class:`controlplane.compute.rpcapi.ComputeAPI`).
    :param cells_db: module-like object with the functions of
        :mod:`controlplane.db.cells` (default that module).
    :param build_requests_db: module-like object with the functions of
        :mod:`controlplane.db.build_requests` (default that module).
    :param server_groups_db: module-like object with ``get_group_hosts`` of
        :mod:`controlplane.db.server_groups` (default that module).
    :param cell_engine: ``f(cell_mapping) -> Engine`` (default
        :func:`controlplane.db.engine.cell_engine`).
    :param host_az: ``f(host) -> zone name`` (default
        :func:`controlplane.db.aggregates.get_host_az`).
    """

    def __init__(self, scheduler_api=None, compute_api=None, cells_db=db_cells,
                 build_requests_db=db_build_requests,
                 server_groups_db=db_server_groups,
                 cell_engine=None, host_az=None):
        self._scheduler_api = scheduler_api
        self._compute_api = compute_api
        self.cells_db = cells_db
        self.br_db = build_requests_db
        self.sg_db = server_groups_db
        self._cell_engine = cell_engine or db_engine.cell_engine
        self._get_host_az = host_az or _default_host_az
        self._cell_cache = {}

    # -- RPC clients (made on first use) ---------------------------------------
    @property
    def scheduler_api(self):
        if self._scheduler_api is None:
            from controlplane.scheduler.rpcapi import SchedulerAPI
            self._scheduler_api = SchedulerAPI()
        return self._scheduler_api

    @property
    def compute_api(self):
        if self._compute_api is None:
            from controlplane.compute.rpcapi import ComputeAPI
            self._compute_api = ComputeAPI()
        return self._compute_api

    def _cell(self, cell_uuid):
        """The cell mapping of ``cell_uuid``, kept for :data:`CELL_CACHE_TTL`
        seconds (cell mappings change only when an operator edits them;
        every build used to read the same row again)."""
        now = time.monotonic()
        cached = self._cell_cache.get(cell_uuid)
        if cached is not None and cached[1] > now:
            return cached[0]
        cell = self.cells_db.get_cell_mapping(uuid=cell_uuid)
        self._cell_cache[cell_uuid] = (cell, now + CELL_CACHE_TTL)
        return cell

    def _engine(self, cell_mapping):
        return self._cell_engine(cell_mapping)

    # -- RPC methods -------------------------------------------------------------
    def ping(self, ctxt, **kwargs):
        """Liveness round trip: returns ``"pong"``."""
        return "pong"

    def schedule_and_build_instances(self, ctxt, build_requests, request_specs, **kwargs):
        """Schedule each build request and start its build (see module doc).

        :param build_requests: list of ``{"instance_uuid", "project_id",
            "instance": dict}``.
        :param request_specs: list of request spec dicts (same order): keys
            used here are ``instance_uuid``, ``flavor`` (``vcpus``,
            ``memory_mb``, ``root_gb``, ``ephemeral_gb``, ``swap``),
            ``image``, ``availability_zone``, ``instance_group``
            (``uuid``), ``num_instances``.
        """
        ctxt = RequestContext.coerce(ctxt)
        pending = []
        for build_request, spec in zip(build_requests, request_specs):
            instance_uuid = build_request.get("instance_uuid") or \
                build_request["instance"]["uuid"]
            if self._already_scheduled(ctxt, instance_uuid, spec):
                continue
            pending.append((instance_uuid, build_request, dict(spec or {})))
        if not pending:
            return
        base_spec = pending[0][2]
        self._populate_group_info(base_spec)
        instance_uuids = [uuid for uuid, _, _ in pending]
        try:
            host_lists = self.scheduler_api.select_destinations(
                ctxt, base_spec, instance_uuids, return_alternates=True)
        except Exception as exc:  # noqa: BLE001 - any scheduling error buries in cell0
            reason = _exc_text(exc)
            if _exc_type(exc) != "NoValidHost":
                LOG.error("scheduling of %s failed: %s: %s", ", ".join(instance_uuids),
                          _exc_type(exc), reason)
            message = reason if reason.startswith("No valid host") else \
                NO_VALID_HOST_MSG % reason
            for uuid, build_request, spec in pending:
                self._bury_in_cell0(ctxt, uuid, build_request, spec, message,
                                    getattr(exc, "traceback", None) or traceback.format_exc())
            return
        for (uuid, build_request, spec), host_list in zip(pending, host_lists):
            try:
                self._build_one(ctxt, uuid, build_request, spec, list(host_list))
            except Exception:  # noqa: BLE001 - one failure must not stop the batch
                LOG.exception("build of instance %s failed in the conductor", uuid)
                self._release_selection(uuid, host_list[0] if host_list else None)
                self._bury_in_cell0(ctxt, uuid, build_request, spec,
                                    "Build of instance %s failed in the conductor" % uuid,
                                    traceback.format_exc())

    def build_instances(self, ctxt, instance_uuid, request_spec, alternates=None,
                        attempt=2, **kwargs):
        """Reschedule a build that failed on its host.

        Tries the alternates in order: the first whose claim succeeds gets
        the instance (host/node updated) and a ``build_and_run_instance``
        cast with the remaining alternates and ``attempt``. With no
        alternate left, or ``attempt > [scheduler] max_attempts``, the
        instance goes to ERROR with the MaxRetriesExceeded fault.

        :param attempt: number of the attempt about to be made (first
            reschedule: 2).
        """
        ctxt = RequestContext.coerce(ctxt)
        request_spec = request_spec or {}
        alternates = list(alternates or [])
        mapping = self._get_mapping(instance_uuid)
        if mapping is None or not mapping.get("cell_mapping"):
            LOG.warning("reschedule of %s: no instance mapping with a cell; dropping it",
                        instance_uuid)
            return
        cell = mapping["cell_mapping"]
        engine = self._engine(cell)
        try:
            inst = inst_db.get_instance(engine, instance_uuid)
        except inst_db.InstanceNotFound:
            LOG.info("reschedule of %s: the instance was deleted", instance_uuid)
            return
        if inst["vm_state"] != states.BUILDING or inst["task_state"] != states.SCHEDULING \
                or inst["host"] is not None:
            LOG.info("reschedule of %s is a no-op: instance is %s/%s on %s", instance_uuid,
                     inst["vm_state"], inst["task_state"], inst["host"])
            return
        flavor = request_spec.get("flavor") or inst.get("flavor") or {}
        while alternates and attempt <= CONF.scheduler.max_attempts:
            selection = alternates.pop(0)
            sel_cell = cell
            if selection.get("cell_uuid") and selection["cell_uuid"] != cell["uuid"]:
                LOG.debug("alternate %s is in another cell; skipped", selection.get("host"))
                continue
            alloc = selection.get("allocation") or self._allocation(flavor)
            if not cn_db.claim(self._engine(sel_cell), selection["compute_node_uuid"],
                               instance_uuid, alloc.get("vcpus", 0),
                               alloc.get("memory_mb", 0), alloc.get("disk_gb", 0)):
                LOG.info("alternate host %s for %s could not be claimed; next",
                         selection.get("host"), instance_uuid)
                continue
            try:
                inst_db.update_instance(
                    engine, instance_uuid,
                    {"host": selection["host"], "node": selection.get("nodename"),
                     "scheduled_at": utcnow()},
                    expected_task_state=[states.SCHEDULING])
            except (inst_db.UnexpectedTaskStateError, inst_db.InstanceNotFound) as exc:
                LOG.info("instance %s changed during reschedule (%s); releasing claim",
                         instance_uuid, exc)
                cn_db.release(engine, instance_uuid)
                return
            LOG.info("rescheduling %s to %s (attempt %d)", instance_uuid,
                     selection["host"], attempt)
            self.compute_api.build_and_run_instance(
                ctxt, selection["host"], instance_uuid, request_spec,
                alternates=alternates, attempt=attempt,
                transport_url=cell.get("transport_url"))
            return
        LOG.warning("build of %s failed on every host tried; ERROR", instance_uuid)
        cn_db.release(engine, instance_uuid)
        inst_db.add_fault(engine, instance_uuid, 500, MAX_RETRIES_MSG % instance_uuid)
        try:
            inst_db.update_instance(engine, instance_uuid,
                                    {"vm_state": states.ERROR, "task_state": None},
                                    expected_task_state=[states.SCHEDULING])
        except (inst_db.UnexpectedTaskStateError, inst_db.InstanceNotFound) as exc:
            LOG.info("instance %s not set to ERROR: %s", instance_uuid, exc)

    # -- internals ---------------------------------------------------------------
    def _get_mapping(self, instance_uuid):
        try:
            return self.cells_db.get_instance_mapping(instance_uuid)
        except Exception as exc:  # noqa: BLE001 - InstanceMappingNotFound
            LOG.info("no instance mapping for %s: %s", instance_uuid, exc)
            return None

    def _already_scheduled(self, ctxt, instance_uuid, spec):
        """True when a previous delivery already placed the instance."""
        mapping = self._get_mapping(instance_uuid)
        if mapping is None or not mapping.get("cell_mapping"):
            return False
        cell = mapping["cell_mapping"]
        try:
            self.br_db.delete_build_request(instance_uuid)
        except Exception:  # noqa: BLE001
            LOG.exception("could not delete the build request of %s", instance_uuid)
        if cell["uuid"] == CELL0_UUID:
            LOG.info("instance %s is already in cell0; redelivered build ignored",
                     instance_uuid)
            return True
        try:
            inst = inst_db.get_instance(self._engine(cell), instance_uuid)
        except inst_db.InstanceNotFound:
            LOG.info("instance %s mapped to cell %s but not there (deleted)",
                     instance_uuid, cell["name"])
            return True
        if inst["vm_state"] == states.BUILDING and inst["task_state"] == states.SCHEDULING \
                and inst["host"]:
            LOG.info("instance %s already scheduled to %s; re-casting its build",
                     instance_uuid, inst["host"])
            self.compute_api.build_and_run_instance(
                ctxt, inst["host"], instance_uuid, spec, alternates=[], attempt=1,
                transport_url=cell.get("transport_url"))
        else:
            LOG.info("instance %s already scheduled (%s/%s); redelivered build ignored",
                     instance_uuid, inst["vm_state"], inst["task_state"])
        return True

    def _populate_group_info(self, spec):
        """Fill ``instance_group.hosts`` and ``members`` of the request spec
        from the API DB and the cells (Nova's ``_populate_group_info``),
        through :func:`controlplane.db.server_groups.get_group_hosts`.

        A group deleted since the API accepted the request, or unreadable
        databases, leave the spec as the API made it (logged)."""
        group = spec.get("instance_group")
        if not group or not group.get("uuid"):
            return
        try:
            info = self.sg_db.get_group_hosts(group["uuid"])
        except exception.InstanceGroupNotFound:
            LOG.info("server group %s of the request no longer exists", group["uuid"])
            return
        except Exception:  # noqa: BLE001
            LOG.exception("could not read server group %s or its hosts", group["uuid"])
            return
        found = info["group"]
        group = dict(group)
        group["members"] = list(found.get("members") or [])
        group["hosts"] = list(info["hosts"])
        group.setdefault("policy", found.get("policy"))
        group.setdefault("policies", found.get("policies"))
        group.setdefault("rules", found.get("rules"))
        spec["instance_group"] = group

    def _host_az(self, host, spec):
        """The zone of the chosen host, as Nova stores it on the instance
        (``get_host_availability_zone``); the requested zone, then
        ``[DEFAULT] default_availability_zone`` when aggregates are unreadable."""
        try:
            return self._get_host_az(host)
        except Exception:  # noqa: BLE001
            LOG.exception("could not read the availability zone of %s", host)
            return spec.get("availability_zone") or CONF.default_availability_zone

    @staticmethod
    def _allocation(flavor):
        return {"vcpus": int(flavor.get("vcpus", 0)),
                "memory_mb": int(flavor.get("memory_mb", 0)),
                "disk_gb": int(flavor.get("root_gb", 0)) + int(flavor.get("ephemeral_gb", 0))}

    def _release_selection(self, instance_uuid, selection):
        if not selection:
            return
        try:
            cell = self._cell(selection["cell_uuid"])
            cn_db.release(self._engine(cell), instance_uuid)
        except Exception:  # noqa: BLE001
            LOG.exception("could not release the claim of %s", instance_uuid)

    def _instance_values(self, instance_uuid, build_request, spec):
        src = dict(build_request.get("instance") or {})
        values = {k: src[k] for k in _INSTANCE_KEYS if k in src}
        values["uuid"] = instance_uuid
        values.setdefault("project_id", build_request.get("project_id") or
                          spec.get("project_id"))
        values.setdefault("user_id", spec.get("user_id") or src.get("user_id") or "")
        flavor = values.get("flavor") or spec.get("flavor") or {}
        values["flavor"] = flavor
        for key in ("vcpus", "memory_mb", "root_gb", "ephemeral_gb"):
            values.setdefault(key, int(flavor.get(key, 0) or 0))
        values.setdefault("image_ref", (spec.get("image") or {}).get("id"))
        values.setdefault("display_name", src.get("display_name"))
        values.pop("created_at", None)
        return values

    def _bury_in_cell0(self, ctxt, instance_uuid, build_request, spec, message, details):
        """Create the instance in cell0 in ERROR with a fault (Nova's
        ``_bury_in_cell0``); delete its build request and map it to cell0."""
        cell0 = self._cell(CELL0_UUID)
        engine = self._engine(cell0)
        values = self._instance_values(instance_uuid, build_request, spec)
        values.update(vm_state=states.ERROR, task_state=None, host=None, node=None,
                      availability_zone=spec.get("availability_zone") or
                      values.get("availability_zone"))
        inst_db.create_instance(engine, values)
        inst_db.record_action(engine, instance_uuid, "create", ctxt.request_id,
                              ctxt.user_id, ctxt.project_id)
        if inst_db.get_latest_fault(engine, instance_uuid) is None:
            inst_db.add_fault(engine, instance_uuid, 500, message, details=details)
        inst_db.finish_action(engine, instance_uuid, ctxt.request_id, message="Error")
        self.cells_db.set_instance_mapping_cell(instance_uuid, cell0["id"])
        if not self.br_db.delete_build_request(instance_uuid) and \
                self._server_deleted(instance_uuid):
            LOG.info("build request of %s was already deleted (server deleted); "
                     "deleting its cell0 record", instance_uuid)
            inst_db.soft_delete_instance(engine, instance_uuid)
            self._queue_mapping_delete(instance_uuid)
        LOG.warning("instance %s could not be scheduled; put in cell0 in ERROR: %s",
                    instance_uuid, message)

    def _server_deleted(self, instance_uuid):
        """True when the user deleted the server: its build request is gone
        and its mapping is missing or queued for delete (what the API's
        delete of a queued server leaves). A build request consumed by a
        concurrent delivery of the same message leaves the mapping alone."""
        mapping = self._get_mapping(instance_uuid)
        return mapping is None or bool(mapping.get("queued_for_delete"))

    def _queue_mapping_delete(self, instance_uuid):
        try:
            self.cells_db.queue_instance_mapping_for_delete(instance_uuid)
        except Exception:  # noqa: BLE001
            LOG.exception("could not queue mapping of %s for delete", instance_uuid)

    def _build_one(self, ctxt, instance_uuid, build_request, spec, host_list):
        """Create the instance in the chosen cell and cast its build."""
        chosen, alternates = host_list[0], host_list[1:]
        cell = self._cell(chosen["cell_uuid"])
        engine = self._engine(cell)
        if not self.br_db.build_request_exists(instance_uuid):
            if self._server_deleted(instance_uuid):
                LOG.info("build request of %s is gone (server deleted while queued); "
                         "releasing its claim", instance_uuid)
                cn_db.release(engine, instance_uuid)
            else:
                LOG.info("build request of %s was consumed by another delivery of "
                         "this message; nothing to do", instance_uuid)
            return
        values = self._instance_values(instance_uuid, build_request, spec)
        values.update(host=chosen["host"], node=chosen.get("nodename"),
                      vm_state=states.BUILDING, task_state=states.SCHEDULING,
                      power_state=states.NOSTATE, scheduled_at=utcnow(),
                      availability_zone=self._host_az(chosen["host"], spec))
        # the instance and its "create" action in one transaction
        created = inst_db.create_instance(
            engine, values, return_row=False,
            action={"action": "create", "request_id": ctxt.request_id,
                    "user_id": ctxt.user_id, "project_id": ctxt.project_id})
        if created["host"] != chosen["host"]:
            # A previous delivery created it already (crash before mapping):
            # keep that placement, whose claim exists, and drop the new one.
            LOG.info("instance %s already created on %s by an earlier delivery",
                     instance_uuid, created["host"])
            if cn_db.get_allocation(engine, instance_uuid) and \
                    cn_db.get_allocation(engine, instance_uuid)["host"] != created["host"]:
                cn_db.release(engine, instance_uuid)
            chosen = {"host": created["host"], "nodename": created["node"]}
            alternates = []
        self.cells_db.set_instance_mapping_cell(instance_uuid, cell["id"])
        if not self.br_db.delete_build_request(instance_uuid) and \
                self._server_deleted(instance_uuid):
            LOG.info("server %s was deleted while being scheduled; undoing its build",
                     instance_uuid)
            inst_db.soft_delete_instance(engine, instance_uuid)
            cn_db.release(engine, instance_uuid)
            self._queue_mapping_delete(instance_uuid)
            return
        LOG.info("instance %s scheduled to %s (node %s) in cell %s; casting build",
                 instance_uuid, chosen["host"], chosen.get("nodename"), cell.get("name"))
        self.compute_api.build_and_run_instance(
            ctxt, chosen["host"], instance_uuid, spec, alternates=alternates,
            attempt=1, transport_url=cell.get("transport_url"))
