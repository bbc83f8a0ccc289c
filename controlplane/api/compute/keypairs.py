"""``/os-keypairs``: a user's SSH key pairs and x509 certificates (Nova's
os-keypairs, microversions 2.1 – 2.60).

* ``POST`` imports ``public_key`` or, without one, generates a key pair and
  returns its ``private_key`` once (ssh: RSA 2048 in OpenSSH form; x509: a
  self-signed certificate). 2.1 answers 200, 2.2+ 201 with ``type``.
  Counted against the ``key_pairs`` quota per user (403 when over).
* ``GET`` lists the caller's key pairs (2.10: an admin may pass
  ``user_id``; 2.35: ``limit``/``marker``).
* ``GET``/``DELETE /os-keypairs/{name}`` (DELETE: 202 in 2.1, 204 from 2.2).

Fingerprints as Nova: ssh: MD5 of the decoded key blob, colon-separated
hex; x509: SHA-1 of the DER certificate, colon-separated hex.
"""
import base64
import binascii
import datetime
import hashlib
import logging

import flask
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from controlplane import exception, quota
from controlplane.api import common, faults
from controlplane.api.schemas import keypairs as schema
from controlplane.api.views import keypairs as view
from controlplane.db import keypairs as db

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("keypairs", __name__)

P = "os_compute_api:os-keypairs:%s"


def _colon_hex(digest):
    return ":".join("%02x" % b for b in digest)


def ssh_fingerprint(public_key):
    """MD5 fingerprint of an OpenSSH public key line.

    :raises ValueError: not a parsable OpenSSH public key.
    """
    serialization.load_ssh_public_key(public_key.strip().encode())
    parts = public_key.strip().split()
    blob = base64.b64decode(parts[1].encode(), validate=True)
    return _colon_hex(hashlib.md5(blob).digest())


def x509_fingerprint(pem):
    """SHA-1 fingerprint of a PEM certificate; raises ValueError."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    return _colon_hex(cert.fingerprint(hashes.SHA1()))


def fingerprint(public_key, key_type):
    """Fingerprint of an imported key; 400 when it cannot be parsed."""
    try:
        if key_type == "x509":
            return x509_fingerprint(public_key)
        return ssh_fingerprint(public_key)
    except (ValueError, TypeError, IndexError, binascii.Error, UnsupportedAlgorithm) as exc:
        LOG.info("rejected %s public key: %s", key_type, exc)
        raise faults.BadRequest("Keypair data is invalid: failed to generate fingerprint")


def generate(key_type, common_name):
    """A new key: ``(private_key PEM, public key text, fingerprint)``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    if key_type == "x509":
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
                .sign(key, hashes.SHA256()))
        public = cert.public_bytes(serialization.Encoding.PEM).decode()
        return private, public, x509_fingerprint(public)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    public += " Generated-by-Controlplane"
    return private, public, ssh_fingerprint(public)


def _target_user(version):
    """The user whose key pairs are addressed (``?user_id`` from 2.10)."""
    ctxt = common.context()
    if version >= (2, 10):
        return flask.request.args.get("user_id") or ctxt.user_id
    return ctxt.user_id


def _authorize(action, user_id):
    common.authorize(P % action, {"user_id": user_id,
                                  "project_id": common.context().project_id})


@bp.get("/os-keypairs")
def index():
    """→ ``{"keypairs": [{"keypair": {...}}]}`` (+ ``keypairs_links`` when a
    ``limit`` filled the page, 2.35)."""
    version = common.req_version()
    user_id = _target_user(version)
    _authorize("index", user_id)
    limit = marker = None
    if version >= (2, 35):
        limit, marker = common.paginate_params()
    try:
        kps = db.list_keypairs(user_id, limit=limit, marker=marker)
    except exception.MarkerNotFound:
        raise faults.BadRequest("marker [%s] not found" % marker)
    body = {"keypairs": [view.listed(k, version) for k in kps]}
    if version >= (2, 35) and "limit" in flask.request.args:
        links = common.collection_links("os-keypairs", kps, limit, id_key="name")
        if links:
            body["keypairs_links"] = links
    return body


@bp.post("/os-keypairs")
def create():
    """Import or generate a key pair (see module doc)."""
    version = common.req_version()
    ctxt = common.context()
    if version >= (2, 10):
        sch = schema.create_v210
    elif version >= (2, 2):
        sch = schema.create_v22
    else:
        sch = schema.create
    body = common.validate(sch, common.json_body())["keypair"]
    user_id = body.get("user_id") or ctxt.user_id
    _authorize("create", user_id)
    key_type = body.get("type", "ssh")
    private_key = None
    if "public_key" in body:
        public_key = body["public_key"]
        fp = fingerprint(public_key, key_type)
    else:
        private_key, public_key, fp = generate(key_type, user_id)
    limit = quota.get_project_limits(ctxt.project_id).get("key_pairs")
    try:
        kp = db.create_keypair(user_id, body["name"], public_key, fp, type=key_type,
                               limit=limit)
    except exception.OverQuota:
        raise faults.QuotaExceeded("Quota exceeded, too many key pairs.")
    LOG.info("key pair %s (%s) created for user %s", kp["name"], key_type, user_id)
    return view.created(kp, version, private_key), (201 if version >= (2, 2) else 200)


@bp.get("/os-keypairs/<name>")
def show(name):
    version = common.req_version()
    user_id = _target_user(version)
    _authorize("show", user_id)
    return view.shown(db.get_keypair(user_id, name), version)


@bp.delete("/os-keypairs/<name>")
def delete(name):
    version = common.req_version()
    user_id = _target_user(version)
    _authorize("delete", user_id)
    db.delete_keypair(user_id, name)
    LOG.info("key pair %s of user %s deleted", name, user_id)
    return "", (204 if version >= (2, 2) else 202)
