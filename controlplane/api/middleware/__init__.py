"""WSGI middleware of the API pipeline (see :func:`controlplane.api.app.create_app`)."""
