"""The volume scheduler (Cinder's ``FilterScheduler`` for volumes).

``create_volume(ctxt, request_spec, filter_properties)`` (an RPC cast on
topic ``volume-scheduler``):

1. the volume must still be ``creating`` (a redelivered message of a
   volume already placed is re-cast to its pool; anything else is dropped);
2. the retry dict ``filter_properties["retry"]`` = ``{"num_attempts",
   "backends", "exc"}`` is created or advanced (when
   ``scheduler_max_attempts`` > 1); more attempts than allowed → ``error``;
3. a volume from a snapshot or a clone may only go to the pool of its
   source volume;
4. filters and weighers run over the cached :class:`PoolStates`
   (refreshed every ``pool_state_refresh_interval`` seconds), the best
   pool is claimed atomically in the database
   (:func:`controlplane.db.volume_pools.claim`); a failed claim (another
   scheduler took the space) tries the next pool, then once more on fresh
   states;
5. the volume gets ``host = host@backend#pool`` (CAS on ``creating``) and
   ``create_volume`` is cast to the backend with the retry dict.

Nothing fits → the volume goes to ``error`` with the reason "No valid
backend was found. ..." logged (Cinder records it as a user message).
"""
import logging
import threading
import time

from controlplane.conf import CONF
from controlplane.db import engine as db_engine
from controlplane.db import snapshots as db_snapshots
from controlplane.db import volume_pools as db_pools
from controlplane.db import volumes as db_volumes
from controlplane.db.services import utcnow
from controlplane.volume import exception as vexc
from controlplane.volume import states
from controlplane.volume.scheduler import filters as vfilters
from controlplane.volume.scheduler import weighers as vweighers
from controlplane.volume.scheduler.host_state import PoolStates
from controlplane.volume.scheduler.request import VolumeRequest

LOG = logging.getLogger(__name__)

#: candidates whose claim is tried per round before the states are re-read
MAX_CLAIMS_PER_ROUND = 8


class FilterScheduler:
    """Pure selection over pool states (no I/O): used by the manager and
    by ``bench/volume_scheduler_bench.py``."""

    def __init__(self, filter_names=None, weigher_names=None):
        opts = CONF.volume_scheduler
        self.filters = vfilters.load_filters(filter_names or opts.scheduler_default_filters)
        self.weighers = vweighers.load_weighers(
            weigher_names if weigher_names is not None else opts.scheduler_default_weighers)

    def candidates(self, pool_states, req):
        """Pool indices that pass every filter, best first.

        :raises NoValidBackend: nothing passes.
        """
        idx = vfilters.run_filters(self.filters, pool_states, req)
        return vweighers.order(self.weighers, pool_states, idx, req)


class VolumeSchedulerManager:
    """RPC endpoint of ``controlplane-volume-scheduler``.

    :param engine: API database engine (default ``[api_database]``).
    :param volume_api: the volume service client (default
        :class:`controlplane.volume.rpcapi.VolumeAPI`).
    """

    def __init__(self, engine=None, volume_api=None, scheduler=None):
        self.engine = engine or db_engine.api_engine()
        if volume_api is None:
            from controlplane.volume.rpcapi import VolumeAPI
            volume_api = VolumeAPI()
        self.volume_api = volume_api
        self.scheduler = scheduler or FilterScheduler()
        self._states = None
        self._lock = threading.Lock()

    # -- RPC methods ---------------------------------------------------------
    def ping(self, ctxt):
        return "pong"

    def create_volume(self, ctxt, request_spec, filter_properties=None, glance_auth=None):
        """Place one volume (see the module docstring). Never raises: the
        outcome is the volume's status (``creating`` on a backend, or
        ``error``)."""
        filter_properties = dict(filter_properties or {})
        volume_id = request_spec["volume_id"]
        try:
            vol = db_volumes.get_volume(self.engine, volume_id)
        except vexc.VolumeNotFound:
            LOG.info("volume %s is gone; nothing to schedule", volume_id)
            return
        if vol["status"] != states.CREATING:
            LOG.info("volume %s is %s, not creating; dropping the request",
                     volume_id, vol["status"])
            return
        retry = filter_properties.get("retry")
        if vol.get("host") and retry is None:
            alloc = db_pools.get_allocation(self.engine, volume_id)
            if alloc is not None and alloc["pool"] == vol["host"]:
                LOG.info("volume %s already placed on %s (redelivery); re-casting",
                         volume_id, vol["host"])
                self._cast(ctxt, vol["host"], request_spec, filter_properties, glance_auth)
                return
        max_attempts = CONF.volume_scheduler.scheduler_max_attempts
        if max_attempts > 1:
            retry = dict(retry or {"num_attempts": 0, "backends": []})
            retry["num_attempts"] = int(retry.get("num_attempts", 0)) + 1
            retry["backends"] = list(retry.get("backends") or [])
            filter_properties["retry"] = retry
            if retry["num_attempts"] > max_attempts:
                self._error(volume_id, "Exceeded maximum number of scheduling attempts "
                            "(%d) for volume %s. Last exception: %s" % (
                                max_attempts, volume_id, retry.get("exc")))
                return
        try:
            source_pool = self._source_pool(request_spec)
            req = VolumeRequest.from_spec(request_spec, filter_properties, source_pool)
            pool = self.schedule(req)
        except vexc.NoValidBackend as exc:
            self._error(volume_id, str(exc))
            return
        try:
            db_volumes.update_volume(self.engine, volume_id,
                                     {"host": pool, "scheduled_at": utcnow()},
                                     expected_status=states.CREATING)
        except (vexc.VolumeNotFound, vexc.VolumeInvalidState) as exc:
            LOG.info("volume %s changed while scheduling (%s); releasing %s",
                     volume_id, exc, pool)
            db_pools.release(self.engine, volume_id)
            return
        if retry is not None:
            retry["backends"].append(pool)
        self._cast(ctxt, pool, request_spec, filter_properties, glance_auth)

    # -- internals -------------------------------------------------------------
    def _cast(self, ctxt, pool, request_spec, filter_properties, glance_auth=None):
        volume_id = request_spec["volume_id"]
        try:
            self.volume_api.create_volume(ctxt, pool, volume_id, request_spec,
                                          filter_properties, glance_auth=glance_auth)
        except Exception as exc:  # noqa: BLE001 - the backend is unreachable
            LOG.error("could not cast create_volume of %s to %s: %s", volume_id, pool, exc)
            db_pools.release(self.engine, volume_id)
            self._error(volume_id, "backend %s unreachable: %s" % (pool, exc))

    def _error(self, volume_id, reason):
        LOG.warning("volume %s: %s", volume_id, reason)
        try:
            db_volumes.update_volume(self.engine, volume_id,
                                     {"status": states.ERROR, "host": None},
                                     expected_status=states.CREATING)
        except (vexc.VolumeNotFound, vexc.VolumeInvalidState):
            pass

    def _source_pool(self, request_spec):
        """Pool of the snapshot's volume or the source volume, or None."""
        src = None
        if request_spec.get("snapshot_id"):
            snap = db_snapshots.get_snapshot(self.engine, request_spec["snapshot_id"],
                                             read_deleted="yes")
            src = db_volumes.get_volume(self.engine, snap["volume_id"], read_deleted="yes")
        elif request_spec.get("source_volid"):
            src = db_volumes.get_volume(self.engine, request_spec["source_volid"],
                                        read_deleted="yes")
        if src is None:
            return None
        if not src.get("host"):
            raise vexc.NoValidBackend(reason="the source of the volume has no backend")
        return src["host"]

    def pool_states(self, force=False):
        """The cached :class:`PoolStates`, rebuilt when older than
        ``pool_state_refresh_interval`` seconds (or ``force``)."""
        with self._lock:
            st = self._states
            age = CONF.volume_scheduler.pool_state_refresh_interval
            if force or st is None or time.monotonic() - st.built_at > age:
                st = PoolStates(db_pools.get_pool_states(self.engine),
                                down_time=CONF.service_down_time)
                self._states = st
            return st

    def schedule(self, req):
        """Choose and claim a pool for ``req``; returns its name.

        :raises NoValidBackend: no pool passes, or every candidate's claim
            failed on fresh states too.
        """
        for fresh in (False, True):
            st = self.pool_states(force=fresh)
            with self._lock:
                order = self.scheduler.candidates(st, req)
            for i in order[:MAX_CLAIMS_PER_ROUND]:
                name = st.names[i]
                if db_pools.claim(self.engine, name, req.volume_id, req.size, thin=req.thin):
                    with self._lock:
                        st.consume(i, req.size)
                    LOG.info("volume %s (%d GiB) scheduled to %s", req.volume_id,
                             req.size, name)
                    return name
                LOG.debug("claim of %s on %s failed; trying the next pool",
                          req.volume_id, name)
        raise vexc.NoValidBackend(reason="every candidate's claim failed")
