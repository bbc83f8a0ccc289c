"""Block Storage API volume types, extra specs and type access, validated
against tempest's ``volume.volume_types`` schemas."""
from tests.unit.api_client import MEMBER, OTHER, assert_fault
from tests.unit.test_api_volume_common import venv, vcheck  # noqa: F401


def make_type(venv, **body):
    r = venv.admin.post("/types", {"volume_type": body})
    return vcheck("volume_types", "create_volume_type", r)["volume_type"]


def test_create_list_show_update_delete(venv):
    gold = make_type(venv, name="gold", description="fast",
                     extra_specs={"volume_backend_name": "fileback", "multiattach": "<is> False"})
    assert gold["is_public"] and gold["os-volume-type-access:is_public"]
    assert gold["extra_specs"]["volume_backend_name"] == "fileback"
    r = venv.api.get("/types")
    types = vcheck("volume_types", "list_volume_types", r)["volume_types"]
    assert {t["name"] for t in types} == {"gold", "__DEFAULT__"}
    member_gold = next(t for t in types if t["name"] == "gold")
    assert "volume_backend_name" not in member_gold["extra_specs"]    # admin-only key
    r = venv.admin.get("/types/" + gold["id"])
    assert vcheck("volume_types", "show_volume_type", r)["volume_type"]["extra_specs"][
        "volume_backend_name"] == "fileback"
    r = venv.api.get("/types/default")
    assert vcheck("volume_types", "show_volume_type", r)["volume_type"]["name"] == "__DEFAULT__"
    r = venv.admin.put("/types/" + gold["id"], {"volume_type": {"description": "faster"}})
    assert vcheck("volume_types", "update_volume_types", r)["volume_type"][
        "description"] == "faster"
    r = venv.admin.delete("/types/" + gold["id"])
    vcheck("volume_types", "delete_volume_type", r)
    assert_fault(venv.api.get("/types/" + gold["id"]), 404)


def test_member_cannot_manage(venv):
    assert_fault(venv.api.post("/types", {"volume_type": {"name": "x"}}), 403)
    gold = make_type(venv, name="gold")
    assert_fault(venv.api.put("/types/" + gold["id"], {"volume_type": {"name": "y"}}), 403)
    assert_fault(venv.api.delete("/types/" + gold["id"]), 403)
    assert_fault(venv.api.post("/types/%s/extra_specs" % gold["id"],
                               {"extra_specs": {"a": "b"}}), 403)


def test_bad_input_and_conflicts(venv):
    make_type(venv, name="gold")
    assert_fault(venv.admin.post("/types", {"volume_type": {"name": "gold"}}), 409)
    assert_fault(venv.admin.post("/types", {"volume_type": {"name": ""}}), 400)
    assert_fault(venv.admin.post("/types", {"volume_type": {"name": " lead"}}), 400)
    assert_fault(venv.admin.post("/types", {"volume_type": {}}), 400)
    assert_fault(venv.admin.post("/types", {"volume_type": {"name": "n",
                                                            "is_public": "maybe"}}), 400)
    assert_fault(venv.admin.post("/types", {"volume_type": {"name": "n", "bogus": 1}}), 400)
    assert_fault(venv.admin.get("/types/6f1f0c2a-0000-4000-8000-000000000000"), 404)
    default = venv.api.get("/types/default").get_json()["volume_type"]
    assert_fault(venv.admin.delete("/types/" + default["id"]), 400)


def test_type_in_use_cannot_be_deleted(venv):
    gold = make_type(venv, name="gold")
    r = venv.api.post("/volumes", {"volume": {"size": 1, "volume_type": "gold"}})
    assert r.status_code == 202
    assert_fault(venv.admin.delete("/types/" + gold["id"]), 400)


def test_extra_specs(venv):
    gold = make_type(venv, name="gold")
    base = "/types/%s/extra_specs" % gold["id"]
    r = venv.admin.post(base, {"extra_specs": {"volume_backend_name": "fileback", "k": "v"}})
    assert vcheck("volume_types", "create_volume_types_extra_specs", r)["extra_specs"] == {
        "volume_backend_name": "fileback", "k": "v"}
    r = venv.admin.get(base)
    assert vcheck("volume_types", "list_volume_types_extra_specs", r)["extra_specs"][
        "k"] == "v"
    r = venv.admin.get(base + "/k")
    assert vcheck("volume_types", "show_volume_types_extra_specs", r) == {"k": "v"}
    r = venv.admin.put(base + "/k", {"k": "w"})
    assert vcheck("volume_types", "update_volume_type_extra_specs", r) == {"k": "w"}
    assert_fault(venv.admin.put(base + "/k", {"other": "w"}), 400)
    r = venv.admin.delete(base + "/k")
    vcheck("volume_types", "delete_volume_types_extra_specs", r)
    assert_fault(venv.admin.delete(base + "/k"), 404)
    assert_fault(venv.admin.get(base + "/k"), 404)
    assert_fault(venv.admin.post(base, {"extra_specs": {}}), 400)
    assert_fault(venv.admin.post(base, {"extra_specs": {"k": "x" * 256}}), 400)
    assert_fault(venv.admin.post(base, {"extra_specs": {"k": 10 ** 300}}), 400)


def test_private_type_access(venv):
    private = make_type(venv, name="secret", **{"os-volume-type-access:is_public": False})
    assert not private["is_public"]
    assert_fault(venv.api.get("/types/" + private["id"]), 404)
    names = {t["name"] for t in venv.api.get("/types").get_json()["volume_types"]}
    assert "secret" not in names
    assert_fault(venv.api.post("/volumes", {"volume": {"size": 1, "volume_type": "secret"}}),
                 404)
    r = venv.admin.post("/types/%s/action" % private["id"],
                        {"addProjectAccess": {"project": MEMBER["project"]}})
    vcheck("volume_types", "add_type_access", r)
    assert_fault(venv.admin.post("/types/%s/action" % private["id"],
                                 {"addProjectAccess": {"project": MEMBER["project"]}}), 409)
    r = venv.admin.get("/types/%s/os-volume-type-access" % private["id"])
    assert vcheck("volume_types", "list_type_access", r)["volume_type_access"] == [
        {"volume_type_id": private["id"], "project_id": MEMBER["project"]}]
    assert venv.api.get("/types/" + private["id"]).status_code == 200
    assert_fault(venv.api.get("/types/" + private["id"], who=OTHER), 404)
    r = venv.admin.get("/types?is_public=None")
    assert "secret" in {t["name"] for t in r.get_json()["volume_types"]}
    r = venv.admin.post("/types/%s/action" % private["id"],
                        {"removeProjectAccess": {"project": MEMBER["project"]}})
    assert r.status_code == 202
    assert_fault(venv.api.get("/types/" + private["id"]), 404)
