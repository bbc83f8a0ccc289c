"""Base check strings every resource policy builds on.

Keystone roles ``reader`` ⊂ ``member`` ⊂ ``admin``; the implied roles are
not relied on, so a reader check accepts ``member`` as well. A project rule
matches the target's ``project_id`` (the owner of the resource).
"""
from oslo_policy import policy

ADMIN = "rule:admin_api"
PROJECT_READER = "rule:project_reader"
PROJECT_MEMBER = "rule:project_member"
PROJECT_READER_OR_ADMIN = "rule:project_reader_or_admin"
PROJECT_MEMBER_OR_ADMIN = "rule:project_member_or_admin"
ANY = "@"

rules = [
    policy.RuleDefault("admin_api", "role:admin", "Cloud administrator."),
    policy.RuleDefault("project_reader",
                       "(role:reader or role:member) and project_id:%(project_id)s",
                       "A reader (or member) of the target's project."),
    policy.RuleDefault("project_member", "role:member and project_id:%(project_id)s",
                       "A member of the target's project."),
    policy.RuleDefault("project_reader_or_admin",
                       "rule:admin_api or rule:project_reader",
                       "Admin, or a reader of the target's project."),
    policy.RuleDefault("project_member_or_admin",
                       "rule:admin_api or rule:project_member",
                       "Admin, or a member of the target's project."),
]
