"""Response views of the Block Storage API: database dicts → Cinder's JSON
(validated by tempest's ``tempest.lib.api_schema.response.volume``)."""
