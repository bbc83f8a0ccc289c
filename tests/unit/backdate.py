"""Moving a row's timestamps into the past, for tests of age-based logic
(stale deletes, service liveness)."""
import datetime

import sqlalchemy as sa

from controlplane.db.services import utcnow


def backdate(engine, table, seconds, *where):
    """Set ``updated_at`` and ``created_at`` of the rows of ``table``
    matching ``where`` (SQLAlchemy clauses) to ``seconds`` ago (naive UTC,
    as the db layer writes them)."""
    when = utcnow() - datetime.timedelta(seconds=seconds)
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(*where).values(updated_at=when, created_at=when))
