"""JSON schemas of request bodies (Draft 4), one module per resource."""
