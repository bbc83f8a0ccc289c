"""Resource modules of the Compute API v2.1, one Flask blueprint each.

Each module exposes ``bp`` (routes relative to ``/v2.1``); a module may also
expose ``root_bp`` for unprefixed routes (``versions`` serves ``GET /``).
"""
RESOURCE_MODULES = ["versions", "servers", "server_actions", "limits",
                    "quota_sets", "quota_classes", "flavors", "flavor_extra_specs",
                    "flavor_access", "aggregates", "availability_zones", "services",
                    "hypervisors", "keypairs", "server_groups", "volume_attachments"]
