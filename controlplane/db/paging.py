"""Filters, sort and marker pagination shared by the db modules (instances,
volumes, snapshots, volume types).

Cinder's list semantics (``cinder.db.sqlalchemy.api._generate_paginate_query``):
``sort`` is a list of ``(key, "asc"|"desc")``, default ``created_at desc``,
``id`` appended as tie-break; ``marker`` is the id of the last row of the
previous page (keyset pagination); an unknown marker raises
:class:`controlplane.exception.MarkerNotFound` (HTTP 400).
"""
import sqlalchemy as sa

from controlplane import exception


def as_list(value):
    """None stays None; a scalar becomes a one-element list."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def in_clause(column, values):
    """``column IN values`` where a None in values means IS NULL."""
    non_null = [v for v in values if v is not None]
    conds = []
    if non_null:
        conds.append(column.in_(non_null))
    if len(non_null) != len(values):
        conds.append(column.is_(None))
    if not conds:
        return sa.false()
    return sa.or_(*conds)


#: Filter keys every listing ignores here: ``deleted`` goes through
#: ``read_deleted``, ``all_tenants`` through the caller's project scope.
IGNORED_FILTERS = ("deleted", "all_tenants")


def common_filter_clause(table, key, value, in_columns):
    """The WHERE clause of one filter shared by Cinder's listings
    (``volume_get_all``, ``snapshot_get_all``: exact ``name``, substring
    ``name~``, ``metadata`` key/values, and ``key IN values`` on
    ``in_columns``), or None when ``key`` is none of those.

    :param table: the table (``display_name`` and ``metadata`` JSON columns).
    :param value: the filter's value; for IN a scalar or a list, where None
        (alone or in the list) matches NULL.
    :returns: a SQLAlchemy clause (``sa.true()`` for ignored keys), or None.
    """
    if key in ("name", "display_name"):
        return table.c.display_name == value
    if key in ("name~", "display_name~"):
        return table.c.display_name.like("%" + str(value) + "%")
    if key == "metadata":
        return sa.and_(sa.true(), *(table.c.metadata[mk].as_string() == str(mv)
                                    for mk, mv in dict(value).items()))
    if key in in_columns:
        return in_clause(table.c[key], [None] if value is None else as_list(value))
    if key in IGNORED_FILTERS:
        return sa.true()
    return None


def deleted_clause(table, read_deleted):
    """``read_deleted``: ``"no"`` (default), ``"yes"`` or ``"only"``."""
    if read_deleted == "no":
        return table.c.deleted.is_(sa.false())
    if read_deleted == "only":
        return table.c.deleted.is_(sa.true())
    if read_deleted == "yes":
        return sa.true()
    raise ValueError("read_deleted must be 'no', 'yes' or 'only', not %r" % read_deleted)


def normalise_sort(sort, sort_keys):
    """Validate ``sort`` against ``sort_keys``; raises ValueError."""
    sort = list(sort or [("created_at", "desc")])
    out = []
    for key, direction in sort:
        if key not in sort_keys:
            raise ValueError("invalid sort key %r" % key)
        direction = (direction or "asc").lower()
        if direction not in ("asc", "desc"):
            raise ValueError("invalid sort direction %r" % direction)
        out.append((key, direction))
    if not any(k == "id" for k, _ in out):
        out.append(("id", out[-1][1] if out else "desc"))
    return out


def marker_clause(table, sort, marker_row):
    """Rows strictly after ``marker_row`` in ``sort`` order."""
    ors = []
    for i, (key, direction) in enumerate(sort):
        ands = []
        for prev_key, _ in sort[:i]:
            mval = marker_row[prev_key]
            ands.append(table.c[prev_key].is_(None) if mval is None
                        else table.c[prev_key] == mval)
        mval = marker_row[key]
        col = table.c[key]
        if mval is None:
            ands.append(col.is_not(None) if direction == "asc" else sa.false())
        elif direction == "asc":
            ands.append(col > mval)
        else:
            ands.append(sa.or_(col < mval, col.is_(None)))
        ors.append(sa.and_(*ands))
    return sa.or_(*ors)


def paginate(conn, table, query, sort, limit, marker, sort_keys):
    """Apply sort, marker and limit to ``query`` and run it on ``conn``.

    :returns: list of row mappings.
    """
    sort = normalise_sort(sort, sort_keys)
    if marker is not None:
        mrow = conn.execute(sa.select(table).where(table.c.id == marker)).first()
        if mrow is None:
            raise exception.MarkerNotFound(marker=marker)
        query = query.where(marker_clause(table, sort, dict(mrow._mapping)))
    query = query.order_by(*[(table.c[k].asc() if d == "asc" else table.c[k].desc())
                             for k, d in sort])
    if limit is not None:
        query = query.limit(int(limit))
    return list(conn.execute(query))
