"""Filter, weigh, select: the decision for one instance (Nova's FilterScheduler).

:meth:`FilterScheduler.select` runs over a :class:`HostStates` snapshot:

1. drop ``ignore_hosts`` and hosts excluded by the caller (lost claims);
2. forced hosts (``force_hosts`` / ``force_nodes``) bypass the filters, as
   in Nova; otherwise every enabled filter narrows a bool mask (a filter
   whose input is absent returns None and costs nothing; ``static``
   filters are memoised per request);
3. weigh the survivors (normalised, multiplied, summed);
4. choose at random among the ``host_subset_size`` best, and take the next
   best hosts *of the same cell* as alternates.

No database access and no state change here: the manager claims and
consumes.
"""
import collections
import logging
import random

import numpy as np

from controlplane.conf import CONF
from controlplane.scheduler.filters import load_filters
from controlplane.scheduler.weighers import load_weighers

LOG = logging.getLogger(__name__)

#: below this many candidates, sort fully (stable, deterministic ties).
_FULL_SORT_MAX = 256

Decision = collections.namedtuple("Decision", "chosen alternates weights filter_results")
Decision.__doc__ = """Outcome of :meth:`FilterScheduler.select`.

:ivar chosen: index of the chosen node in the HostStates.
:ivar alternates: list of indices (same cell, best first, chosen excluded).
:ivar weights: ``{index: total weight}`` of chosen and alternates.
:ivar filter_results: ``[(filter name, hosts before, hosts after)]``.
"""


class NoHostsLeft(Exception):
    """Raised by select(): ``reason`` says which step removed the last host."""

    def __init__(self, reason, filter_results):
        super().__init__(reason)
        self.reason = reason
        self.filter_results = filter_results


class FilterScheduler:
    """Vectorised Nova FilterScheduler decision.

    :param filter_names: default ``[filter_scheduler] enabled_filters``.
    :param weigher_names: default ``[filter_scheduler] weight_classes``.
    :param rng: a ``random.Random`` for host_subset_size (tests seed it).
    :raises SchedulerConfigError: an unknown filter or weigher name.
    """

    def __init__(self, filter_names=None, weigher_names=None, rng=None):
        fs = CONF.filter_scheduler
        self.filters = load_filters(fs.enabled_filters if filter_names is None else filter_names)
        self.weighers = load_weighers(fs.weight_classes if weigher_names is None else weigher_names)
        self.rng = rng or random.Random()
        LOG.debug("filters: %s; weighers: %s", [f.name for f in self.filters],
                  [w.name for w in self.weighers])

    # -- filtering -----------------------------------------------------------

    def filter_hosts(self, states, req, exclude=()):
        """Indices of the hosts that may take one instance of ``req``.

        :param exclude: indices removed before filtering (failed claims).
        :returns: ``(int array of indices, [(filter, before, after)])``.
        """
        n = states.n
        mask = np.ones(n, dtype=bool)
        results = []
        if req.ignore_hosts:
            ix = states.indices_of_hosts(req.ignore_hosts)
            if ix.size:
                mask[ix] = False
            results.append(("ignore_hosts", n, int(np.count_nonzero(mask))))
        if len(exclude):
            mask[np.asarray(list(exclude), dtype=np.intp)] = False
            results.append(("failed_claims", results[-1][2] if results else n,
                            int(np.count_nonzero(mask))))
        if req.force_hosts or req.force_nodes:
            before = int(np.count_nonzero(mask))
            if req.force_hosts:
                mask &= states.mask_of_hosts(req.force_hosts)
            if req.force_nodes:
                mask &= np.isin(states.nodename, np.array(req.force_nodes, dtype=object))
            after = int(np.count_nonzero(mask))
            results.append(("forced_hosts", before, after))
            if after:
                LOG.debug("forced hosts/nodes %s/%s bypass the filters",
                          req.force_hosts, req.force_nodes)
            return np.flatnonzero(mask), results
        count = int(np.count_nonzero(mask))
        for f in self.filters:
            if f.static:
                key = (f.name, states)
                m = req.cache.get(key, False)
                if m is False:
                    m = req.cache[key] = f.filter_mask(states, req)
            else:
                m = f.filter_mask(states, req)
            if m is None:
                continue
            mask &= m
            after = int(np.count_nonzero(mask))
            results.append((f.name, count, after))
            if LOG.isEnabledFor(logging.DEBUG):
                LOG.debug("Filter %s returned %d host(s)", f.name, after)
            count = after
            if not count:
                break
        return np.flatnonzero(mask), results

    # -- weighing ------------------------------------------------------------

    def weigh(self, states, idx, req):
        """Total weight of each host of ``idx`` (float array, same order)."""
        total = np.zeros(len(idx), dtype=np.float64)
        if len(idx) == 0:
            return total
        for w in self.weighers:
            part = w.weigh(states, idx, req)
            if part is not None:
                total += part
        return total

    # -- selection -----------------------------------------------------------

    @staticmethod
    def _best(weights, positions, k):
        """The ``k`` positions with the highest weights, best first."""
        if k <= 0 or positions.size == 0:
            return positions[:0]
        if positions.size > max(k, _FULL_SORT_MAX):
            part = np.argpartition(-weights[positions], k - 1)[:k]
            positions = positions[part]
        order = np.argsort(-weights[positions], kind="stable")
        return positions[order][:k]

    def select(self, states, req, exclude=(), num_alternates=None):
        """Choose a host for one instance of ``req``.

        :param num_alternates: how many alternates (default
            ``[scheduler] max_attempts - 1``).
        :returns: :data:`Decision`.
        :raises NoHostsLeft: no host passed (``reason`` explains which step).
        """
        if num_alternates is None:
            num_alternates = CONF.scheduler.max_attempts - 1
        idx, results = self.filter_hosts(states, req, exclude)
        if idx.size == 0:
            reason = self.describe_failure(req, results, states.n)
            LOG.info("Filtering removed all hosts for the request with instance ID '%s'. "
                     "Filter results: %s", req.instance_uuid, format_results(results))
            raise NoHostsLeft(reason, results)
        if LOG.isEnabledFor(logging.DEBUG):
            LOG.debug("Filtered %d of %d host(s) for instance %s: %s", idx.size, states.n,
                      req.instance_uuid, format_results(results))
        weights = self.weigh(states, idx, req)
        all_pos = np.arange(idx.size)
        subset = max(1, CONF.filter_scheduler.host_subset_size)
        top = self._best(weights, all_pos, min(subset, idx.size))
        chosen_pos = int(top[self.rng.randrange(len(top))]) if len(top) > 1 else int(top[0])
        chosen = int(idx[chosen_pos])
        alternates = []
        if num_alternates > 0 and idx.size > 1:
            same_cell = states.cell_code[idx] == states.cell_code[chosen]
            same_cell[chosen_pos] = False
            alt_pos = self._best(weights, np.flatnonzero(same_cell), num_alternates)
            alternates = [int(idx[p]) for p in alt_pos]
        w = {chosen: float(weights[chosen_pos])}
        pos_of = {int(i): p for p, i in enumerate(idx)} if alternates else {}
        for a in alternates:
            w[a] = float(weights[pos_of[a]])
        return Decision(chosen, alternates, w, results)

    @staticmethod
    def describe_failure(req, results, total):
        """The reason given with NoValidHost."""
        if total == 0:
            return "There are no compute hosts."
        if (req.force_hosts or req.force_nodes) and results and results[-1][0] == "forced_hosts":
            return ("No hosts matched due to not matching 'force_hosts' (%s) / "
                    "'force_nodes' (%s) value." % (req.force_hosts, req.force_nodes))
        last = next((r for r in results if r[2] == 0), None)
        if last is None:
            return "There are not enough hosts available."
        return ("There are not enough hosts available. %s removed the last %d host(s) "
                "(%s)." % (last[0], last[1], format_results(results)))


def format_results(results):
    """Nova's filter summary: ``['RamFilter: (start: 10, end: 3)', ...]``."""
    return "[%s]" % ", ".join("'%s: (start: %d, end: %d)'" % r for r in results)
