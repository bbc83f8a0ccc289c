"""The Block Storage API v3 (Cinder's design), one Flask blueprint per resource.

Each module in :data:`RESOURCE_MODULES` exposes ``bp`` with routes relative
to ``/v3/{project_id}``; :mod:`.versions` serves the unversioned
discovery documents. :func:`controlplane.api.volume.app.create_app` builds
the WSGI application with the Compute API's middleware pipeline.
"""
RESOURCE_MODULES = ["volumes", "volume_actions", "types", "snapshots", "quota_sets",
                    "limits", "services", "pools", "availability_zones"]
