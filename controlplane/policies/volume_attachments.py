"""Policies of the Compute API's ``/servers/{id}/os-volume_attachments``
(Nova's ``os_compute_api:os-volumes-attachments:*``)."""
from oslo_policy import policy

from controlplane.policies import base

P = "os_compute_api:os-volumes-attachments:%s"
PATH = "/servers/{server_id}/os-volume_attachments"

rules = [
    policy.DocumentedRuleDefault(P % "index", base.PROJECT_READER_OR_ADMIN,
                                 "List the volumes attached to a server",
                                 [{"method": "GET", "path": PATH}]),
    policy.DocumentedRuleDefault(P % "show", base.PROJECT_READER_OR_ADMIN,
                                 "Show a volume attachment",
                                 [{"method": "GET", "path": PATH + "/{volume_id}"}]),
    policy.DocumentedRuleDefault(P % "create", base.PROJECT_MEMBER_OR_ADMIN,
                                 "Attach a volume to a server",
                                 [{"method": "POST", "path": PATH}]),
    policy.DocumentedRuleDefault(P % "delete", base.PROJECT_MEMBER_OR_ADMIN,
                                 "Detach a volume from a server",
                                 [{"method": "DELETE", "path": PATH + "/{volume_id}"}]),
]
