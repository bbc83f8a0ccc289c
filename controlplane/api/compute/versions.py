"""Version documents: ``GET /`` (all versions) and ``GET /v2.1`` (one).

No authentication is needed (the pipeline routes these paths around it).
Other unversioned paths are answered by Nova with 300 Multiple Choices; the
``/v2`` legacy prefix is not served and gets 300 choices pointing at v2.1.
"""
import flask

from controlplane.api import common, versions

bp = flask.Blueprint("versions", __name__)
root_bp = flask.Blueprint("versions_root", __name__)


@root_bp.route("/", methods=["GET"])
def index():
    """``GET /``: 200 ``{"versions": [v2.0, v2.1]}`` (tempest list_versions)."""
    return flask.jsonify(versions.list_versions(common.base_url()))


@root_bp.route("/v2.1", methods=["GET"])
def show():
    """``GET /v2.1``: 200 ``{"version": {...}}`` (tempest get_one_version)."""
    return flask.jsonify(versions.one_version(common.base_url()))


@root_bp.route("/v2", methods=["GET"])
def multi():
    """``GET /v2``: 300 Multiple Choices listing v2.0 and v2.1."""
    resp = flask.jsonify(versions.choices(common.base_url(), ""))
    resp.status_code = 300
    return resp
