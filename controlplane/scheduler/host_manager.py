"""Loading and caching host states from every cell (Nova's HostManager).

:class:`HostManager` reads, for every enabled non-cell0 cell, its compute
nodes joined with their ``controlplane-compute`` services, plus the host
aggregates of the API database, and builds a :class:`HostStates` snapshot.
The snapshot is reused for ``[scheduler] host_state_refresh_interval``
seconds; the scheduler consumes claimed resources in it between refreshes
(claims themselves always hit the database). A cell whose database cannot
be read is skipped for that refresh (logged) so one broken cell does not
stop scheduling to the others.
"""
import logging
import threading
import time

from controlplane.conf import CONF
from controlplane.scheduler.host_state import HostStates, record_from_db_row

LOG = logging.getLogger(__name__)


def _default_cells():
    from controlplane.db import cells
    return [c for c in cells.list_cell_mappings(include_cell0=False) if not c.get("disabled")]


def _default_rows(cell):
    from controlplane.db import compute_nodes
    from controlplane.db import engine as db_engine
    return compute_nodes.get_host_state_rows(db_engine.cell_engine(cell))


def _default_aggregates():
    from controlplane.db import aggregates
    return aggregates.host_aggregates_map()


def _default_is_up(service):
    from controlplane.db import services
    return services.is_up(service)


class HostManager:
    """Builds and caches the HostStates of all cells.

    Every loader is injectable (tests, benchmarks):

    :param load_cells: ``() -> [cell_mapping dict]`` (default: enabled cells
        of :func:`controlplane.db.cells.list_cell_mappings` without cell0).
    :param load_rows: ``(cell_mapping) -> [row dict]`` (default:
        :func:`controlplane.db.compute_nodes.get_host_state_rows`).
    :param load_aggregates: ``() -> {host: [aggregate]}``.
    :param is_up: ``(service dict) -> bool``.
    :param refresh_interval: seconds (default ``[scheduler]
        host_state_refresh_interval``).
    """

    def __init__(self, load_cells=None, load_rows=None, load_aggregates=None, is_up=None,
                 refresh_interval=None, clock=time.monotonic):
        self._load_cells = load_cells or _default_cells
        self._load_rows = load_rows or _default_rows
        self._load_aggregates = load_aggregates or _default_aggregates
        self._is_up = is_up or _default_is_up
        self._interval = refresh_interval
        self._clock = clock
        self._states = None
        self._loaded_at = None
        self._cells = {}
        self._refresh_lock = threading.Lock()

    @property
    def refresh_interval(self):
        if self._interval is not None:
            return self._interval
        return CONF.scheduler.host_state_refresh_interval

    def mark_stale(self):
        """Reload on the next :meth:`get_host_states` (e.g. after a lost claim)."""
        self._loaded_at = None

    def _fresh(self):
        return (self._states is not None and self._loaded_at is not None
                and self._clock() - self._loaded_at < self.refresh_interval)

    def get_host_states(self):
        """The current snapshot, reloaded when older than the refresh interval.

        While one thread reloads, others keep using the previous snapshot.
        """
        if self._fresh():
            return self._states
        if self._states is not None:
            if not self._refresh_lock.acquire(blocking=False):
                return self._states
        else:
            self._refresh_lock.acquire()
        try:
            if not self._fresh():
                self._states = self._load()
                self._loaded_at = self._clock()
            return self._states
        finally:
            self._refresh_lock.release()

    def _load(self):
        started = time.monotonic()
        cells = self._load_cells()
        records = []
        for cell in cells:
            try:
                rows = self._load_rows(cell)
            except Exception:  # a broken cell must not stop the others
                LOG.exception("Cannot read compute nodes of cell %s (%s); skipping it "
                              "in this refresh", cell.get("name"), cell.get("uuid"))
                continue
            records.extend(record_from_db_row(r, cell["uuid"], self._is_up) for r in rows)
        self._cells = {c["uuid"]: c for c in cells}
        host_aggs = self._load_aggregates()
        states = HostStates(records, host_aggs, CONF.default_availability_zone)
        LOG.debug("Loaded %d compute node(s) of %d cell(s) in %.1f ms", states.n, len(cells),
                  (time.monotonic() - started) * 1000)
        return states

    def cells(self):
        """``{cell_uuid: cell_mapping}`` of the last load (loads if none yet)."""
        if not self._cells:
            self._cells = {c["uuid"]: c for c in self._load_cells()}
        return self._cells

    def cell(self, cell_uuid):
        """The cell mapping dict of ``cell_uuid``; reloads the list once if unknown.

        :raises KeyError: no such (enabled) cell.
        """
        cells = self.cells()
        if cell_uuid not in cells:
            self._cells = {c["uuid"]: c for c in self._load_cells()}
        return self._cells[cell_uuid]

    def set_states(self, states):
        """Install a prepared snapshot (tests, benchmarks); it stays fresh
        for the refresh interval."""
        self._states = states
        self._loaded_at = self._clock()
