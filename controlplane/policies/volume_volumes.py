"""Policies of the Block Storage volumes and their actions (Cinder's rule
names ``volume:*`` and ``volume_extension:*``).

A reader of the owning project sees a volume, a member changes it, the
admin does both for any project plus the admin actions (reset status,
force delete) and sees the admin attributes (host, tenant). A volume of
another project is answered 404, never 403.
"""
from oslo_policy import policy

from controlplane.policies import base

V = "volume:%s"
EXT = "volume_extension:%s"


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(name, check, description,
                                        [{"method": method, "path": path}])


rules = [
    _rule(V % "create", base.PROJECT_MEMBER_OR_ADMIN, "Create a volume",
          "POST", "/volumes"),
    _rule(V % "get", base.PROJECT_READER_OR_ADMIN, "Show a volume",
          "GET", "/volumes/{volume_id}"),
    _rule(V % "get_all", base.PROJECT_READER_OR_ADMIN, "List volumes",
          "GET", "/volumes/detail"),
    _rule(V % "get_all_admin", base.ADMIN, "List volumes of every project (all_tenants)",
          "GET", "/volumes?all_tenants=1"),
    _rule(V % "update", base.PROJECT_MEMBER_OR_ADMIN, "Update a volume",
          "PUT", "/volumes/{volume_id}"),
    _rule(V % "delete", base.PROJECT_MEMBER_OR_ADMIN, "Delete a volume",
          "DELETE", "/volumes/{volume_id}"),
    _rule(V % "extend", base.PROJECT_MEMBER_OR_ADMIN, "Extend a volume",
          "POST", "/volumes/{volume_id}/action (os-extend)"),
    _rule(V % "update_readonly_flag", base.PROJECT_MEMBER_OR_ADMIN,
          "Set the read-only flag", "POST",
          "/volumes/{volume_id}/action (os-update_readonly_flag)"),
    _rule(EXT % "volume_actions:upload_image", base.PROJECT_MEMBER_OR_ADMIN,
          "Upload a volume to the image service", "POST",
          "/volumes/{volume_id}/action (os-volume_upload_image)"),
    _rule(EXT % "volume_actions:bootable", base.PROJECT_MEMBER_OR_ADMIN,
          "Set the bootable flag", "POST", "/volumes/{volume_id}/action (os-set_bootable)"),
    _rule(EXT % "volume_admin_actions:reset_status", base.ADMIN,
          "Reset the status of a volume", "POST",
          "/volumes/{volume_id}/action (os-reset_status)"),
    _rule(EXT % "volume_admin_actions:force_delete", base.ADMIN,
          "Force-delete a volume", "POST",
          "/volumes/{volume_id}/action (os-force_delete)"),
    _rule(EXT % "volume_host_attribute", base.ADMIN,
          "Show os-vol-host-attr:host", "GET", "/volumes/{volume_id}"),
    _rule(EXT % "volume_tenant_attribute", base.ADMIN,
          "Show os-vol-tenant-attr:tenant_id", "GET", "/volumes/{volume_id}"),
    _rule(EXT % "volume_mig_status_attribute", base.ADMIN,
          "Show the migration attributes", "GET", "/volumes/{volume_id}"),
]
