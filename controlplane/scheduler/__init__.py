"""The scheduler: HostStates, filters, weighers and SchedulerManager.

Modules: :mod:`host_state` (struct-of-arrays snapshot + per-host view),
:mod:`host_manager` (loading/caching from the cells), :mod:`request`
(parsed request_spec), :mod:`filters`, :mod:`weighers`,
:mod:`filter_scheduler` (the decision), :mod:`manager` (RPC endpoint with
claims), :mod:`rpcapi` (client).
"""
