"""Volume scheduler (Cinder's filter scheduler over backend pools).

:mod:`.host_state` builds numpy arrays of pool states from
``volume_pools``; :mod:`.filters` and :mod:`.weighers` are vectorised
(each returns a mask or a weight per pool); :mod:`.capacity` holds the
scalar capacity formulas; :mod:`.manager` picks and claims a pool and casts
to the backend; :mod:`.rpcapi` is the client.
"""
