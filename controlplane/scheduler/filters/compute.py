"""ComputeFilter: the host's compute service is up and enabled (Nova's
ComputeFilter; a service is up when its heartbeat is younger than
``[DEFAULT] service_down_time`` and it is not forced down)."""
from controlplane.scheduler.filters.base import BaseHostFilter


class ComputeFilter(BaseHostFilter):
    """Pass hosts whose compute service is up and not disabled."""
    static = True

    def filter_mask(self, states, req):
        return states.usable
