"""SchedulerManager: the RPC endpoint of the ``scheduler`` topic.

``cmd/scheduler.py`` runs ``RPCServer(topic="scheduler",
endpoints=[SchedulerManager()])``; every public method here is an RPC
method called as ``method(ctxt, **args)``.

Per instance of a request (Nova's ``select_destinations`` with claims):

1. filter and weigh over the cached HostStates (no DB access);
2. consume the chosen host's resources in the cache (so concurrent
   requests and the next instance of this one see them) and record the
   pick for server-group (anti-)affinity;
3. claim atomically in the host's cell database
   (:func:`controlplane.db.compute_nodes.claim`); if another scheduler won
   the race, give the cached resources back, exclude that node for this
   instance and choose again (the cache catches up at its next refresh);
4. return ``[chosen, alternate, ...]`` (alternates from the same cell, not
   claimed; at most ``[scheduler] max_attempts`` entries).

If any instance of a multi-instance request finds no host, the claims made
for the earlier ones are released and ``NoValidHost`` is raised (Nova's
all-or-nothing). Reschedules: the conductor calls :meth:`claim_alternate`
with an alternate of the list (and :meth:`release_claim` for the failed
host), or the db functions directly with the cell's engine.
"""
import logging
import threading

from controlplane import exception
from controlplane.conf import CONF
from controlplane.scheduler.filter_scheduler import FilterScheduler, NoHostsLeft
from controlplane.scheduler.host_manager import HostManager
from controlplane.scheduler.request import SchedulingRequest

LOG = logging.getLogger(__name__)

#: hosts tried for one instance when claims keep losing races.
MAX_CLAIM_ATTEMPTS = 10


def _default_claim(engine, compute_node_uuid, instance_uuid, vcpus, memory_mb, disk_gb):
    from controlplane.db import compute_nodes
    return compute_nodes.claim(engine, compute_node_uuid, instance_uuid, vcpus, memory_mb,
                               disk_gb)


def _default_release(engine, instance_uuid):
    from controlplane.db import compute_nodes
    return compute_nodes.release(engine, instance_uuid)


def _default_get_allocation(engine, instance_uuid):
    from controlplane.db import compute_nodes
    return compute_nodes.get_allocation(engine, instance_uuid)


def _default_engine(cell):
    from controlplane.db import engine as db_engine
    return db_engine.cell_engine(cell)


class SchedulerManager:
    """Chooses and claims compute nodes for instances.

    Collaborators are injectable for tests; the defaults use the databases:

    :param host_manager: a :class:`HostManager`.
    :param scheduler: a :class:`FilterScheduler` (built from CONF; an
        unknown filter/weigher name raises ``SchedulerConfigError`` here,
        i.e. at service start).
    :param instance_host_lookup: ``(uuids) -> {uuid: host}`` over all cells.
    :param claim_func, release_func, get_allocation_func, engine_func: the
        :mod:`controlplane.db.compute_nodes` functions and
        ``(cell_mapping) -> engine``.
    """

    def __init__(self, host_manager=None, scheduler=None, instance_host_lookup=None,
                 claim_func=None, release_func=None, get_allocation_func=None,
                 engine_func=None):
        self._host_manager = host_manager or HostManager()
        self._scheduler = scheduler or FilterScheduler()
        self._lookup = instance_host_lookup or self._lookup_instance_hosts
        self._claim = claim_func or _default_claim
        self._release = release_func or _default_release
        self._get_allocation = get_allocation_func or _default_get_allocation
        self._engine = engine_func or _default_engine
        self._lock = threading.Lock()

    # -- RPC methods -----------------------------------------------------------

    def ping(self, ctxt):
        """Liveness check: returns ``"pong"``."""
        return "pong"

    def select_destinations(self, ctxt, request_spec, instance_uuids=None,
                            return_alternates=True):
        """Choose and claim a compute node for each instance.

        :param request_spec: the conductor's request_spec dict.
        :param instance_uuids: one uuid per instance to place (default: the
            spec's ``instance_uuid``).
        :param return_alternates: add up to ``max_attempts - 1`` alternates.
        :returns: ``[[selection, alternate, ...], ...]`` in the order of
            ``instance_uuids``; a selection is ``{"host", "nodename",
            "compute_node_uuid", "cell_uuid", "limits": {}, "allocation":
            {"vcpus", "memory_mb", "disk_gb"}}``; the first of each list is
            claimed.
        :raises NoValidHost: no host fits one of the instances (earlier
            claims of this request are released).
        """
        uuids = list(instance_uuids or [])
        if not uuids:
            if not request_spec.get("instance_uuid"):
                raise exception.Invalid("select_destinations needs instance_uuids")
            uuids = [request_spec["instance_uuid"]]
        req = SchedulingRequest(request_spec)
        lookup = req.uuids_to_look_up()
        if lookup:
            req.resolve(self._lookup(lookup))
        num_alternates = CONF.scheduler.max_attempts - 1 if return_alternates else 0
        results, claimed = [], []
        try:
            for instance_uuid in uuids:
                req.instance_uuid = instance_uuid
                selections = self._schedule_one(req, instance_uuid, num_alternates)
                claimed.append((instance_uuid, selections[0]))
                results.append(selections)
        except exception.NoValidHost:
            for instance_uuid, sel in claimed:
                LOG.info("Releasing the claim of instance %s on %s: another instance of "
                         "the request found no host", instance_uuid, sel["host"])
                self._release_selection(sel, instance_uuid)
            raise
        return results

    def claim_alternate(self, ctxt, selection, instance_uuid):
        """Claim an alternate selection for a reschedule.

        :param selection: one entry of a list returned by select_destinations.
        :returns: True when the instance now holds the allocation on that node
            (idempotent), False when the node has no room any more.
        """
        alloc = selection["allocation"]
        cell = self._host_manager.cell(selection["cell_uuid"])
        ok = self._claim(self._engine(cell), selection["compute_node_uuid"], instance_uuid,
                         alloc["vcpus"], alloc["memory_mb"], alloc["disk_gb"])
        LOG.info("Claim of alternate %s (%s) for instance %s %s", selection["host"],
                 selection["nodename"], instance_uuid, "succeeded" if ok else "failed")
        if ok:
            with self._lock:
                states = self._host_manager.get_host_states()
                i = states.uuid_index.get(selection["compute_node_uuid"])
                if i is not None:
                    states.consume(i, alloc["vcpus"], alloc["memory_mb"], alloc["disk_gb"])
        else:
            self._host_manager.mark_stale()
        return ok

    def release_claim(self, ctxt, instance_uuid, cell_uuid):
        """Release the instance's allocation in ``cell_uuid`` (idempotent).

        :returns: True when an allocation was removed.
        """
        cell = self._host_manager.cell(cell_uuid)
        ok = self._release(self._engine(cell), instance_uuid)
        self._host_manager.mark_stale()
        return ok

    # -- internals -------------------------------------------------------------

    def _lookup_instance_hosts(self, uuids):
        from controlplane.db import instances
        found = {}
        for cell in self._host_manager.cells().values():
            try:
                found.update(instances.get_instance_hosts(self._engine(cell), uuids))
            except Exception:
                LOG.exception("Cannot look up instance hosts in cell %s", cell.get("uuid"))
        return found

    @staticmethod
    def _selection(states, i, allocation):
        return {"host": states.host[i], "nodename": states.nodename[i],
                "compute_node_uuid": states.uuid[i], "cell_uuid": states.cell_uuid[i],
                "limits": {}, "allocation": dict(allocation)}

    def _release_selection(self, selection, instance_uuid):
        try:
            cell = self._host_manager.cell(selection["cell_uuid"])
            self._release(self._engine(cell), instance_uuid)
        except Exception:
            LOG.exception("Could not release the claim of instance %s on %s", instance_uuid,
                          selection["host"])
        self._host_manager.mark_stale()

    def _schedule_one(self, req, instance_uuid, num_alternates):
        alloc = req.allocation
        excluded = set()
        last_reason = None
        for attempt in range(MAX_CLAIM_ATTEMPTS):
            states = self._host_manager.get_host_states()
            with self._lock:
                exclude = [states.uuid_index[u] for u in excluded if u in states.uuid_index]
                try:
                    decision = self._scheduler.select(states, req, exclude, num_alternates)
                except NoHostsLeft as exc:
                    reason = exc.reason
                    if excluded:
                        reason = ("%s (claims lost on %d host(s) to concurrent requests)"
                                  % (reason, len(excluded)))
                    raise exception.NoValidHost(reason=reason) from None
                i = decision.chosen
                states.consume(i, alloc["vcpus"], alloc["memory_mb"], alloc["disk_gb"])
                host = states.host[i]
                req.record_pick(host)
                selections = [self._selection(states, j, alloc)
                              for j in [i] + decision.alternates]
            chosen = selections[0]
            try:
                cell = self._host_manager.cell(chosen["cell_uuid"])
                engine = self._engine(cell)
                ok = self._claim(engine, chosen["compute_node_uuid"], instance_uuid,
                                 alloc["vcpus"], alloc["memory_mb"], alloc["disk_gb"])
            except Exception:
                with self._lock:
                    states.consume(i, alloc["vcpus"], alloc["memory_mb"], alloc["disk_gb"], -1)
                    req.record_pick(host, -1)
                raise
            if ok:
                LOG.info("Selected %s (node %s, cell %s) for instance %s with %d alternate(s)",
                         chosen["host"], chosen["nodename"], chosen["cell_uuid"],
                         instance_uuid, len(selections) - 1)
                return selections
            with self._lock:
                states.consume(i, alloc["vcpus"], alloc["memory_mb"], alloc["disk_gb"], -1)
                req.record_pick(host, -1)
            existing = self._get_allocation(engine, instance_uuid)
            if existing:
                # A redelivered request: the instance was claimed before.
                j = states.uuid_index.get(existing["compute_node_uuid"])
                if j is not None:
                    LOG.info("Instance %s already holds a claim on %s; returning it",
                             instance_uuid, existing["host"])
                    req.record_pick(states.host[j])
                    first = self._selection(states, j, {
                        "vcpus": existing["vcpus"], "memory_mb": existing["memory_mb"],
                        "disk_gb": existing["disk_gb"]})
                    return [first] + [s for s in selections
                                      if s["compute_node_uuid"] != first["compute_node_uuid"]]
            LOG.info("Claim for instance %s on %s (%s) lost a race (attempt %d); "
                     "choosing again", instance_uuid, chosen["host"], chosen["nodename"],
                     attempt + 1)
            excluded.add(chosen["compute_node_uuid"])
            last_reason = "Claims failed on %d host(s)." % len(excluded)
        raise exception.NoValidHost(reason=last_reason or "Claims failed.")
