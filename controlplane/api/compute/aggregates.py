"""``/os-aggregates``: host aggregates and their availability zones (Nova's
os-aggregates, microversions 2.1 – 2.60; 2.41 shows the uuid), admin only.

Rules kept from Nova: a host added to an aggregate must be a known compute
host (404); a host cannot be in two different availability zones (409 on
add_host, 400 on update / set_metadata); a zone name cannot contain ``:``
or be empty; an aggregate with hosts cannot be deleted (400). Aggregate ids
in URLs are integers (anything else is 400).
"""
import logging

import flask

from controlplane import exception
from controlplane.api import common, faults
from controlplane.api.compute.services import find_compute_service
from controlplane.api.schemas import aggregates as schema
from controlplane.api.views import aggregates as view
from controlplane.db import aggregates as db

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("aggregates", __name__)

P = "os_compute_api:os-aggregates:%s"


def _int_id(aggregate_id):
    try:
        return int(aggregate_id)
    except ValueError:
        raise faults.BadRequest("Invalid aggregate id %s: must be an integer." % aggregate_id)


@bp.get("/os-aggregates")
def index():
    """→ ``{"aggregates": [aggregate]}``."""
    common.authorize(P % "index")
    version = common.req_version()
    return {"aggregates": [view.aggregate(a, version) for a in db.list_aggregates()]}


@bp.post("/os-aggregates")
def create():
    """Body ``{"aggregate": {"name", "availability_zone"?}}`` → 200 with the
    aggregate (without hosts and metadata); 409 on a taken name."""
    common.authorize(P % "create")
    body = common.validate(schema.create, common.json_body())["aggregate"]
    agg = db.create_aggregate(body["name"], availability_zone=body.get("availability_zone"))
    LOG.info("created aggregate %s (%s) in zone %s", agg["id"], agg["name"],
             agg["availability_zone"])
    return {"aggregate": view.aggregate(agg, common.req_version(), for_create=True)}


@bp.get("/os-aggregates/<aggregate_id>")
def show(aggregate_id):
    """→ ``{"aggregate": aggregate}``; 404 unknown, 400 not an integer."""
    common.authorize(P % "show")
    agg = db.get_aggregate(_int_id(aggregate_id))
    return {"aggregate": view.aggregate(agg, common.req_version())}


@bp.put("/os-aggregates/<aggregate_id>")
def update(aggregate_id):
    """Body ``{"aggregate": {"name"?, "availability_zone"?}}`` (at least one)."""
    common.authorize(P % "update")
    agg_id = _int_id(aggregate_id)
    body = common.validate(schema.update, common.json_body())["aggregate"]
    kwargs = {}
    if "name" in body:
        kwargs["name"] = body["name"]
    if "availability_zone" in body:
        kwargs["availability_zone"] = body["availability_zone"]
    try:
        agg = db.update_aggregate(agg_id, **kwargs)
    except exception.AvailabilityZoneConflict as exc:
        raise faults.BadRequest(str(exc))
    if agg.get("updated_at") is None:
        agg = touch(agg_id)
    return {"aggregate": view.aggregate(agg, common.req_version())}


def touch(agg_id):
    """Record the change time of an aggregate whose row itself did not change
    (a zone-only update), so that ``updated_at`` is set as Nova shows it."""
    touch_fn = getattr(db, "touch_aggregate", None)
    if touch_fn is not None:
        return touch_fn(agg_id)
    return db.get_aggregate(agg_id)


@bp.delete("/os-aggregates/<aggregate_id>")
def delete(aggregate_id):
    """Delete an empty aggregate → 200; 400 while it has hosts."""
    common.authorize(P % "delete")
    db.delete_aggregate(_int_id(aggregate_id))
    LOG.info("deleted aggregate %s", aggregate_id)
    return "", 200


@bp.post("/os-aggregates/<aggregate_id>/action")
def action(aggregate_id):
    """``add_host`` / ``remove_host`` (``{"host": h}``) or ``set_metadata``
    (``{"metadata": {k: v or null}}``) → the aggregate."""
    agg_id = _int_id(aggregate_id)
    body = common.json_body()
    version = common.req_version()
    if len(body) != 1:
        raise faults.BadRequest("Exactly one aggregate action is required.")
    name = next(iter(body))
    if name == "add_host":
        common.authorize(P % "add_host")
        host = common.validate(schema.add_host, body)["add_host"]["host"]
        db.get_aggregate(agg_id)
        find_compute_service(host)
        try:
            agg = db.add_host(agg_id, host)
        except exception.AvailabilityZoneConflict as exc:
            raise faults.Conflict("Cannot add host to aggregate %s. Reason: %s"
                                  % (agg_id, exc))
        LOG.info("aggregate %s: host %s added", agg_id, host)
    elif name == "remove_host":
        common.authorize(P % "remove_host")
        host = common.validate(schema.remove_host, body)["remove_host"]["host"]
        db.get_aggregate(agg_id)
        try:
            agg = db.remove_host(agg_id, host)
        except exception.AggregateHostNotFound:
            raise faults.NotFound("Cannot remove host %s in aggregate %s: not found"
                                  % (host, agg_id))
        LOG.info("aggregate %s: host %s removed", agg_id, host)
    elif name == "set_metadata":
        common.authorize(P % "set_metadata")
        metadata = common.validate(schema.set_metadata, body)["set_metadata"]["metadata"]
        if "availability_zone" in metadata:
            az = metadata["availability_zone"]
            if az is not None and (az == "" or ":" in az):
                raise faults.BadRequest("Invalid availability zone name %r: it cannot be "
                                        "empty or contain ':'." % az)
        try:
            agg = db.set_metadata(agg_id, metadata)
        except exception.AvailabilityZoneConflict as exc:
            raise faults.BadRequest("Cannot update metadata of aggregate %s. Reason: %s"
                                    % (agg_id, exc))
        LOG.info("aggregate %s: metadata %s set", agg_id, sorted(metadata))
    else:
        raise faults.BadRequest("Invalid aggregate action %s" % name)
    return {"aggregate": view.aggregate(agg, version)}
