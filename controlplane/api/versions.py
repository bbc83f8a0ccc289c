"""The microversion range this API serves and the version documents.

Nova's version discovery (API guide "Microversions"): ``GET /`` lists the
versions, ``GET /v2.1`` describes one; ``min_version``/``version`` give the
served microversion range.
"""
MIN_VERSION = (2, 1)
MAX_VERSION = (2, 60)
MIN_VERSION_STR = "%d.%d" % MIN_VERSION
MAX_VERSION_STR = "%d.%d" % MAX_VERSION

UPDATED = "2013-07-23T11:33:21Z"

MEDIA_TYPES = [{"base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1"}]

VERSIONS = {
    "v2.0": {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
             "updated": "2011-01-21T11:33:21Z", "path": "v2"},
    "v2.1": {"id": "v2.1", "status": "CURRENT", "version": MAX_VERSION_STR,
             "min_version": MIN_VERSION_STR, "updated": UPDATED, "path": "v2.1"},
}


def _doc(info, base_url, media_types=False):
    href = base_url.rstrip("/") + "/" + info["path"] + "/"
    doc = {"id": info["id"], "status": info["status"],
           "links": [{"rel": "self", "href": href}]}
    if media_types:
        doc["media-types"] = MEDIA_TYPES
    return doc


def list_versions(base_url):
    """``{"versions": [...]}`` for ``GET /`` (tempest list_versions)."""
    out = []
    for info in VERSIONS.values():
        doc = _doc(info, base_url)
        doc.update(version=info["version"], min_version=info["min_version"],
                   updated=info["updated"])
        out.append(doc)
    return {"versions": out}


def one_version(base_url, vid="v2.1"):
    """``{"version": {...}}`` for ``GET /v2.1`` (tempest get_one_version)."""
    info = VERSIONS[vid]
    doc = _doc(info, base_url, media_types=True)
    doc["links"].append({"rel": "describedby", "type": "text/html",
                         "href": "http://docs.openstack.org/"})
    doc.update(version=info["version"], min_version=info["min_version"],
               updated=info["updated"])
    return {"version": doc}


def choices(base_url, path):
    """``{"choices": [...]}`` (300 Multiple Choices) for an unversioned path."""
    out = []
    for info in VERSIONS.values():
        doc = _doc(info, base_url, media_types=True)
        doc["links"][0]["href"] = (base_url.rstrip("/") + "/" + info["path"] + "/"
                                   + path.lstrip("/"))
        out.append(doc)
    return {"choices": out}
