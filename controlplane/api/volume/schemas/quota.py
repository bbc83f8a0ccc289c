"""Schema of ``PUT /os-quota-sets/{project_id}`` (Cinder's quota resources:
volumes, snapshots, gigabytes, backups, backup_gigabytes, groups,
per_volume_gigabytes and the per-type ``<resource>_<type name>``)."""

update = {
    "type": "object",
    "properties": {
        "quota_set": {
            "type": "object",
            "patternProperties": {
                r"^[a-zA-Z0-9_\-:. ]{1,255}$": {
                    "type": ["integer", "string"], "pattern": r"^-?[0-9]+$",
                    "minimum": -1},
            },
            "properties": {"tenant_id": {"type": "string"}},
            "additionalProperties": False,
        },
    },
    "required": ["quota_set"],
    "additionalProperties": False,
}
