"""Key pairs (API database ``key_pairs``), owned by a user as in Nova.

Functions use ``[api_database] connection`` and return plain dicts::

    {"id": int, "name": str, "user_id": str, "fingerprint": str,
     "public_key": str, "type": "ssh" | "x509",
     "created_at": datetime, "updated_at": datetime | None}

Errors (controlplane.exception): ``KeypairNotFound`` (404),
``KeyPairExists`` (409), ``OverQuota`` (403, the user's ``key_pairs``
limit is reached), ``MarkerNotFound`` (400).
"""
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane import exception
from controlplane.db import engine as db_engine
from controlplane.db import models_api as m
from controlplane.db.engine import retry_on_db_error, row_to_dict

LOG = logging.getLogger(__name__)

KP = m.KeyPair.__table__


def _engine():
    return db_engine.api_engine()


def _count(conn, user_id):
    return conn.execute(sa.select(sa.func.count()).select_from(KP)
                        .where(KP.c.user_id == user_id)).scalar_one()


@retry_on_db_error
def count_keypairs(user_id):
    """Number of key pairs the user owns (quota ``key_pairs`` counts these)."""
    with _engine().connect() as conn:
        return _count(conn, user_id)


@retry_on_db_error
def create_keypair(user_id, name, public_key, fingerprint, type="ssh", limit=None):
    """Store a key pair.

    :param limit: the user's ``key_pairs`` limit (-1 or None: unlimited);
        counted in the same transaction, before and after the insert (Nova's
        count-then-recheck), so that racing creates cannot both slip past it.
    :raises KeyPairExists: the user already has a key pair of this name.
    :raises OverQuota: the limit is reached.
    :returns: the key pair dict.
    """
    def over(n):
        return limit is not None and limit >= 0 and n > limit

    try:
        with _engine().begin() as conn:
            if conn.execute(sa.select(KP.c.id).where(KP.c.user_id == user_id,
                                                     KP.c.name == name)).first():
                raise exception.KeyPairExists(key_name=name)
            n = _count(conn, user_id)
            if over(n + 1):
                raise exception.OverQuota(resource="key_pairs", limit=limit, count=n)
            res = conn.execute(sa.insert(KP).values(user_id=user_id, name=name,
                                                    public_key=public_key,
                                                    fingerprint=fingerprint, type=type))
            if over(_count(conn, user_id)):
                raise exception.OverQuota(resource="key_pairs", limit=limit, count=n)
            row = conn.execute(sa.select(KP).where(
                KP.c.id == res.inserted_primary_key[0])).first()
            return row_to_dict(row)
    except sa_exc.IntegrityError:
        raise exception.KeyPairExists(key_name=name) from None


@retry_on_db_error
def get_keypair(user_id, name):
    """The user's key pair ``name``; raises KeypairNotFound."""
    with _engine().connect() as conn:
        row = conn.execute(sa.select(KP).where(KP.c.user_id == user_id,
                                               KP.c.name == name)).first()
    if row is None:
        raise exception.KeypairNotFound(name=name, user_id=user_id)
    return row_to_dict(row)


@retry_on_db_error
def list_keypairs(user_id, limit=None, marker=None):
    """The user's key pairs sorted by name (Nova's order).

    :param marker: name of the last key pair of the previous page.
    :raises MarkerNotFound: no key pair of the user has that name.
    """
    q = sa.select(KP).where(KP.c.user_id == user_id)
    with _engine().connect() as conn:
        if marker is not None:
            if not conn.execute(sa.select(KP.c.id).where(KP.c.user_id == user_id,
                                                         KP.c.name == marker)).first():
                raise exception.MarkerNotFound(marker=marker)
            q = q.where(KP.c.name > marker)
        q = q.order_by(KP.c.name.asc(), KP.c.id.asc())
        if limit is not None:
            q = q.limit(limit)
        return [row_to_dict(r) for r in conn.execute(q)]


@retry_on_db_error
def delete_keypair(user_id, name):
    """Delete the user's key pair ``name``; raises KeypairNotFound."""
    with _engine().begin() as conn:
        res = conn.execute(sa.delete(KP).where(KP.c.user_id == user_id, KP.c.name == name))
    if res.rowcount == 0:
        raise exception.KeypairNotFound(name=name, user_id=user_id)
