"""A COMMIT that lands on the server but whose answer never reaches the
client, as when the Galera writer is killed between the two (the lab's
galera-writer-kill drill): the create's transaction is retried
(:func:`controlplane.db.engine.retry_on_db_error`, MySQL error 2013) although
its first attempt is already stored."""
import contextlib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc


@contextlib.contextmanager
def first_commit_answer_lost(engine):
    """While open, the first COMMIT on ``engine`` is carried out and then
    raises ``OperationalError`` 2013 ("Lost connection") to its caller.

    Yields a list that holds one item once that has happened (assert it:
    a test whose path made no commit proves nothing).
    """
    lost = []

    def commit_then_lose_the_answer(conn):
        if lost:
            return
        lost.append(1)
        conn.connection.dbapi_connection.commit()
        raise sa_exc.OperationalError(
            "COMMIT", {}, Exception(2013, "Lost connection to server during query"))

    sa.event.listen(engine, "commit", commit_then_lose_the_answer)
    try:
        yield lost
    finally:
        sa.event.remove(engine, "commit", commit_then_lose_the_answer)
