"""Policies of volume snapshots (Cinder's ``volume:*_snapshot`` names).
Reader sees, member changes, admin does both anywhere; another project's
snapshot is 404."""
from oslo_policy import policy

from controlplane.policies import base

V = "volume:%s"


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(name, check, description,
                                        [{"method": method, "path": path}])


rules = [
    _rule(V % "create_snapshot", base.PROJECT_MEMBER_OR_ADMIN, "Create a snapshot",
          "POST", "/snapshots"),
    _rule(V % "get_snapshot", base.PROJECT_READER_OR_ADMIN, "Show a snapshot",
          "GET", "/snapshots/{snapshot_id}"),
    _rule(V % "get_all_snapshots", base.PROJECT_READER_OR_ADMIN, "List snapshots",
          "GET", "/snapshots"),
    _rule(V % "update_snapshot", base.PROJECT_MEMBER_OR_ADMIN, "Update a snapshot",
          "PUT", "/snapshots/{snapshot_id}"),
    _rule(V % "delete_snapshot", base.PROJECT_MEMBER_OR_ADMIN, "Delete a snapshot",
          "DELETE", "/snapshots/{snapshot_id}"),
    _rule("volume_extension:extended_snapshot_attributes", base.PROJECT_READER_OR_ADMIN,
          "Show progress and project of a snapshot", "GET", "/snapshots/{snapshot_id}"),
    _rule("volume_extension:snapshot_admin_actions:reset_status", base.ADMIN,
          "Reset the status of a snapshot", "POST",
          "/snapshots/{snapshot_id}/action (os-reset_status)"),
]
