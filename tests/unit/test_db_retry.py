"""retry_on_db_error re-runs a whole transaction on Galera's retryable errors only."""
import pytest
from sqlalchemy import exc as sa_exc

from controlplane.db import engine as db_engine


class _Orig(Exception):
    pass


def _dbapi_error(errno):
    return sa_exc.OperationalError("stmt", {}, _Orig(errno, "boom"))


@pytest.mark.parametrize("errno", [1213, 1205, 1047, 2006, 2013])
def test_retryable_errors_are_retried(conf, errno):
    calls = []

    @db_engine.retry_on_db_error
    def txn():
        calls.append(1)
        if len(calls) < 3:
            raise _dbapi_error(errno)
        return "done"

    assert txn() == "done"
    assert len(calls) == 3


def test_other_errors_are_not_retried(conf):
    calls = []

    @db_engine.retry_on_db_error
    def txn():
        calls.append(1)
        raise _dbapi_error(1062)  # duplicate entry: a real answer, not a glitch

    with pytest.raises(sa_exc.OperationalError):
        txn()
    assert len(calls) == 1


def test_gives_up_after_max_retries(conf):
    conf.set_override("max_retries", 4, "database")
    calls = []

    @db_engine.retry_on_db_error
    def txn():
        calls.append(1)
        raise _dbapi_error(1213)

    with pytest.raises(sa_exc.OperationalError):
        txn()
    assert len(calls) == 4
