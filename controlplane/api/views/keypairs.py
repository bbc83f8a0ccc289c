"""Response bodies of /os-keypairs (Nova's keypairs view; 2.2 adds ``type``)."""
from controlplane.api.views.common_times import iso


def listed(kp, version):
    out = {"name": kp["name"], "public_key": kp["public_key"],
           "fingerprint": kp["fingerprint"]}
    if version >= (2, 2):
        out["type"] = kp["type"]
    return {"keypair": out}


def created(kp, version, private_key=None):
    out = {"name": kp["name"], "public_key": kp["public_key"],
           "fingerprint": kp["fingerprint"], "user_id": kp["user_id"]}
    if private_key is not None:
        out["private_key"] = private_key
    if version >= (2, 2):
        out["type"] = kp["type"]
    return {"keypair": out}


def shown(kp, version):
    out = {"id": kp["id"], "name": kp["name"], "public_key": kp["public_key"],
           "fingerprint": kp["fingerprint"], "user_id": kp["user_id"],
           "created_at": iso(kp["created_at"]), "updated_at": iso(kp.get("updated_at")),
           "deleted": False, "deleted_at": None}
    if version >= (2, 2):
        out["type"] = kp["type"]
    return {"keypair": out}
