"""Version discovery of the Block Storage API (Cinder's ``GET /`` and ``GET /v3/``).

``GET /`` answers 300 Multiple Choices and ``GET /v3/`` 200, both with
``{"versions": [...]}`` (tempest ``volume.versions`` schemas); no
authentication is needed.
"""
import flask

from controlplane.api import common
from controlplane.api.volume import microversion

bp = flask.Blueprint("volume_versions", __name__)

UPDATED = "2023-08-31T00:00:00Z"
MEDIA_TYPES = [{"base": "application/json",
                "type": "application/vnd.openstack.volume+json;version=3"}]
#: paths the pipeline serves without a token
PATHS = ("", "/", "/v3", "/v3/")


def version_doc(base_url):
    """The v3 entry: id, status, version range, links, media types."""
    return {"id": "v3.0", "status": "CURRENT",
            "version": microversion.MAX_VERSION_STR,
            "min_version": microversion.MIN_VERSION_STR,
            "updated": UPDATED,
            "links": [{"rel": "describedby", "type": "text/html",
                       "href": "https://docs.openstack.org/"},
                      {"rel": "self", "href": base_url.rstrip("/") + "/v3/"}],
            "media-types": MEDIA_TYPES}


@bp.route("/", methods=["GET"])
def index():
    """``GET /``: 300 ``{"versions": [v3.0]}``."""
    resp = flask.jsonify({"versions": [version_doc(common.base_url())]})
    resp.status_code = 300
    return resp


@bp.route("/v3", methods=["GET"])
def show():
    """``GET /v3/``: 200 ``{"versions": [v3.0]}``."""
    return flask.jsonify({"versions": [version_doc(common.base_url())]})


@bp.route("/v3/<project_id>", methods=["GET"])
def show_in_project():
    """``GET /v3/{project_id}`` (the catalog URL, authenticated): the same
    document, so that version discovery on the catalog endpoint works."""
    return show()
