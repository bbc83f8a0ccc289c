"""Database layer: the only package that writes SQL.

Functions take plain values and return plain dicts, never ORM objects, so
callers cannot reach back into a session. API-database functions take no
engine argument (they use ``[api_database] connection``); cell-database
functions take the cell's ``engine`` (see :func:`controlplane.db.engine.cell_engine`).
"""
