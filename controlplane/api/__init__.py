"""Compute API v2.1: the WSGI pipeline, the framework and the resources.

:func:`controlplane.api.app.create_app` builds the WSGI application; the
resource modules live in :mod:`controlplane.api.compute`.
"""
