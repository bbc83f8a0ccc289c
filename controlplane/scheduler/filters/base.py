"""Base class of the vectorised host filters.

A filter answers, for every host of a :class:`~controlplane.scheduler.
host_state.HostStates` at once, whether the host may take one instance of
the request: :meth:`BaseHostFilter.filter_mask` returns a bool numpy array
of length ``states.n``, or None when the request does not use this filter
(no input for it): the scheduler then skips it at no cost.

Filters marked ``static = True`` depend only on the request and on values
that claims do not change (aggregates, capabilities, service status), so the
scheduler computes their mask once per request and snapshot.
"""
import numpy as np


class BaseHostFilter:
    """One Nova scheduler filter, evaluated over all hosts."""

    #: mask depends only on request + unchanging host fields (memoised per request).
    static = False

    @property
    def name(self):
        return type(self).__name__

    def filter_mask(self, states, req):
        """Bool array (True = host passes) or None (filter not used).

        :param states: HostStates snapshot.
        :param req: SchedulingRequest.
        """
        raise NotImplementedError


def broadcast(group_pass, codes):
    """Per-group results → per-host mask (``group_pass[codes]``)."""
    return np.asarray(group_pass, dtype=bool)[codes]
