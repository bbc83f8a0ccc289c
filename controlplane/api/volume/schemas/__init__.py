"""JSON schemas (Draft 4) of the Block Storage API request bodies, after
Cinder's ``cinder/api/schemas``: one module per resource. Unknown keys
inside the resource object are tolerated where Cinder tolerates them
(clients send legacy keys such as ``display_name``)."""
