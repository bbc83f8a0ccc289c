"""Each drill's targets, as issue 5 states them. Never loosen one: a drill
that misses a target reports it plainly and fails.

A target is ``(metric, limit)``; the drill passes when every measured
metric is ``<= limit``. Metrics (computed by ``report``):

- ``api_downtime_s``: first failed to last failed request (any operation)
  in the fault window;
- ``failed_requests``: failed requests in the fault window;
- ``healthy_after_heal_s``: heal to every health probe passing;
- ``serving_after_heal_s``: heal to the end of the last failed request
  (0 when nothing failed after the heal);
- ``lost_builds``: acknowledged creates lost, stuck or ended in ERROR;
- ``compute_down_seen``: 0 when the crashed compute's service was seen
  ``down`` (1 otherwise).

Every drill also has the books' own checks (no acknowledged write lost,
no duplicate, none stuck, quota = servers and volumes): any violation
fails it.
"""

DRILLS = {
    "controller-crash": {
        "title": "hard crash of the controller holding the VIP, then power on",
        "targets": {"api_downtime_s": 5, "healthy_after_heal_s": 60},
    },
    "galera-writer-kill": {
        "title": "kill -9 of mariadbd on the Galera node HAProxy writes to",
        "targets": {"api_downtime_s": 3},
    },
    "rabbitmq-node-kill": {
        "title": "kill of the RabbitMQ node hosting most quorum-queue leaders",
        "targets": {"failed_requests": 0, "lost_builds": 0},
    },
    "partition": {
        "title": "one controller cut off from the other two, then healed",
        "targets": {"api_downtime_s": 10, "healthy_after_heal_s": 60},
    },
    "total-outage": {
        "title": "every controller powered off at once, then powered on",
        "targets": {"serving_after_heal_s": 180},
    },
    "rolling-restart": {
        "title": "rolling restart of every controller, one at a time",
        "targets": {"failed_requests": 0},
    },
    "compute-crash": {
        "title": "a compute host crash during builds",
        "targets": {"compute_down_seen": 0},
    },
    # Framework self-test against local processes (tools.drills.local): no
    # issue target, the books only.
    "local-api-kill": {"title": "kill -9 of the local stack's API, restart", "targets": {}},
    "local-conductor-kill": {"title": "kill -9 of the local stack's conductor, restart",
                             "targets": {}},
}

ORDER = ["controller-crash", "galera-writer-kill", "rabbitmq-node-kill", "partition",
         "total-outage", "rolling-restart", "compute-crash"]


def targets_for(drill):
    """``{metric: limit}`` of a drill ({} for an unknown drill)."""
    return dict(DRILLS.get(drill, {}).get("targets", {}))


def verdicts(drill, metrics):
    """Compare measured metrics with the drill's targets.

    :param metrics: ``{metric: value or None}`` (None: not measured, e.g.
        the cloud never became healthy: the target is missed).
    :returns: list of ``{"metric", "limit", "measured", "ok"}``.
    """
    out = []
    for metric, limit in targets_for(drill).items():
        measured = metrics.get(metric)
        ok = measured is not None and measured <= limit
        out.append({"metric": metric, "limit": limit, "measured": measured, "ok": ok})
    return out
