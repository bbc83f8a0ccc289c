"""/os-keypairs against a real API database, validated with tempest's schemas."""
import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.unit.api_client import MAX, MEMBER, OTHER, assert_fault, check

K21, K22 = "v2_1.keypairs", "v2_2.keypairs"


def _ssh_pub():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode() + " me@host"


def test_import_21(api):
    pub = _ssh_pub()
    resp = api.post("/os-keypairs", {"keypair": {"name": "k1", "public_key": pub}}, who=MEMBER)
    kp = check(K21, "create_keypair", resp)["keypair"]
    blob = base64.b64decode(pub.split()[1])
    expected = ":".join("%02x" % b for b in hashlib.md5(blob).digest())
    assert kp["fingerprint"] == expected and "private_key" not in kp
    body = check(K21, "list_keypairs", api.get("/os-keypairs", who=MEMBER))
    assert [k["keypair"]["name"] for k in body["keypairs"]] == ["k1"]
    kp = check(K21, "get_keypair", api.get("/os-keypairs/k1", who=MEMBER))["keypair"]
    assert kp["user_id"] == "alice"
    assert_fault(api.get("/os-keypairs/k1", who=OTHER), 404)
    assert api.get("/os-keypairs", who=OTHER).get_json() == {"keypairs": []}
    check(K21, "delete_keypair", api.delete("/os-keypairs/k1", who=MEMBER))
    assert_fault(api.delete("/os-keypairs/k1", who=MEMBER), 404)


def test_generate_ssh_and_x509_22(api):
    resp = api.post("/os-keypairs", {"keypair": {"name": "gen"}}, who=MEMBER, version=MAX)
    kp = check(K22, "create_keypair", resp)["keypair"]
    assert kp["type"] == "ssh" and "PRIVATE KEY" in kp["private_key"]
    serialization.load_ssh_public_key(kp["public_key"].encode())
    resp = api.post("/os-keypairs", {"keypair": {"name": "cert", "type": "x509"}},
                    who=MEMBER, version=MAX)
    cert = check(K22, "create_keypair", resp)["keypair"]
    assert "BEGIN CERTIFICATE" in cert["public_key"] and cert["fingerprint"].count(":") == 19
    # import the certificate again under another name: same fingerprint
    resp = api.post("/os-keypairs", {"keypair": {"name": "cert2", "type": "x509",
                                                 "public_key": cert["public_key"]}},
                    who=MEMBER, version=MAX)
    assert check(K22, "create_keypair", resp)["keypair"]["fingerprint"] == cert["fingerprint"]
    body = check(K22, "list_keypairs", api.get("/os-keypairs", who=MEMBER, version=MAX))
    assert [k["keypair"]["type"] for k in body["keypairs"]] == ["x509", "x509", "ssh"]
    check(K22, "get_keypair", api.get("/os-keypairs/gen", who=MEMBER, version=MAX))
    check(K22, "delete_keypair", api.delete("/os-keypairs/gen", who=MEMBER, version=MAX))


def test_admin_other_user_and_paging(api):
    for name in ("a", "b", "c"):
        api.post("/os-keypairs", {"keypair": {"name": name, "public_key": _ssh_pub()}},
                 who=MEMBER)
    resp = api.get("/os-keypairs?user_id=alice", version=MAX)
    assert len(check(K22, "list_keypairs", resp)["keypairs"]) == 3
    assert_fault(api.get("/os-keypairs?user_id=alice", who=OTHER, version=MAX), 403)
    resp = api.post("/os-keypairs", {"keypair": {"name": "z", "user_id": "alice",
                                                 "public_key": _ssh_pub()}}, version=MAX)
    assert resp.get_json()["keypair"]["user_id"] == "alice"
    assert_fault(api.post("/os-keypairs", {"keypair": {"name": "y", "user_id": "alice"}},
                          who=OTHER, version=MAX), 403)
    check(K22, "get_keypair", api.get("/os-keypairs/z?user_id=alice", version=MAX))
    resp = api.get("/os-keypairs?limit=2", who=MEMBER, version=MAX)
    body = resp.get_json()
    assert [k["keypair"]["name"] for k in body["keypairs"]] == ["a", "b"]
    assert "marker=b" in body["keypairs_links"][0]["href"]
    body = api.get("/os-keypairs?marker=b", who=MEMBER, version=MAX).get_json()
    assert [k["keypair"]["name"] for k in body["keypairs"]] == ["c", "z"]
    assert_fault(api.get("/os-keypairs?marker=nope", who=MEMBER, version=MAX), 400)
    check(K22, "delete_keypair", api.delete("/os-keypairs/z?user_id=alice", version=MAX))


def test_errors_and_quota(api, conf):
    pub = _ssh_pub()
    api.post("/os-keypairs", {"keypair": {"name": "k", "public_key": pub}}, who=MEMBER)
    assert_fault(api.post("/os-keypairs", {"keypair": {"name": "k", "public_key": pub}},
                          who=MEMBER), 409)
    for bad in ({"keypair": {"name": "k2", "public_key": "ssh-rsa notbase64!"}},
                {"keypair": {"name": "k2", "public_key": "garbage"}},
                {"keypair": {"name": "k2", "type": "x509", "public_key": pub}},
                {"keypair": {"name": " lead"}}, {"keypair": {"name": "a/b"}},
                {"keypair": {"name": ""}}, {"keypair": {}}, {"name": "x"},
                {"keypair": {"name": "k3", "type": "x509"}},  # type needs 2.2
                {"keypair": {"name": "k3", "user_id": "u"}}):  # user_id needs 2.10
        assert_fault(api.post("/os-keypairs", bad, who=MEMBER), 400)
    assert_fault(api.post("/os-keypairs", {"keypair": {"name": "k3", "type": "rsa"}},
                          who=MEMBER, version=MAX), 400)
    assert_fault(api.post("/os-keypairs", raw="{", who=MEMBER), 400)
    conf.set_override("key_pairs", 1, "quota")
    msg = assert_fault(api.post("/os-keypairs", {"keypair": {"name": "k4"}}, who=MEMBER), 403)
    assert "Quota exceeded" in msg
