"""Unit tests of RPC serialization, message building and dispatching."""
import datetime
import decimal
import enum
import logging
import uuid

import pytest

from controlplane.context import RequestContext
from controlplane.rpc import NoSuchMethod, RequestIdLogFilter, serializer
from controlplane.rpc.client import build_message, context_to_dict
from controlplane.rpc.dispatcher import (RPCDispatcher, current_context,
                                         failure_dict)


class Color(enum.Enum):
    RED = "red"


def test_datetime_round_trip():
    now = datetime.datetime(2024, 5, 1, 12, 30, 45, 123456)
    data = serializer.loads(serializer.dumps({"created_at": now}))
    assert data == {"created_at": "2024-05-01T12:30:45.123456"}
    assert serializer.parse_datetime(data["created_at"]) == now


def test_aware_datetime_and_z_suffix():
    aware = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    text = serializer.loads(serializer.dumps(aware))
    assert serializer.parse_datetime(text) == aware
    assert serializer.parse_datetime("2024-05-01T12:00:00Z") == aware


def test_restore_datetimes_only_named_keys():
    now = datetime.datetime(2024, 1, 2, 3, 4, 5)
    wire = serializer.loads(serializer.dumps(
        {"created_at": now, "deleted_at": None, "name": "2024-01-02"}))
    back = serializer.restore_datetimes(wire, ("created_at", "deleted_at",
                                               "missing"))
    assert back == {"created_at": now, "deleted_at": None,
                    "name": "2024-01-02"}
    assert wire["created_at"] == now.isoformat()  # input untouched


def test_parse_datetime_rejects_garbage():
    with pytest.raises(ValueError):
        serializer.parse_datetime("yesterday")
    with pytest.raises(ValueError):
        serializer.parse_datetime(12)
    assert serializer.parse_datetime(None) is None


def test_other_types_become_primitives():
    u = uuid.uuid4()
    value = {"u": u, "d": decimal.Decimal("1.5"), "t": (1, 2), "s": {3},
             "e": Color.RED, "b": b"x", "day": datetime.date(2024, 1, 2),
             "ctx": RequestContext(user_id="u1", auth_token="tok"), 1: "int"}
    data = serializer.loads(serializer.dumps(value))
    assert data["u"] == str(u)
    assert data["d"] == "1.5"
    assert data["t"] == [1, 2] and data["s"] == [3]
    assert data["e"] == "red" and data["b"] == "x"
    assert data["day"] == "2024-01-02"
    assert data["ctx"]["user_id"] == "u1"
    assert "auth_token" not in data["ctx"]
    assert data["1"] == "int"
    assert serializer.to_primitive(value) == data


def test_unknown_type_raises_type_error():
    with pytest.raises(TypeError):
        serializer.dumps({"x": object()})
    with pytest.raises(TypeError):
        serializer.to_primitive(object())


def test_loads_rejects_non_json():
    with pytest.raises(ValueError):
        serializer.loads(b"{not json")


def test_build_message_shape():
    ctxt = RequestContext(user_id="u", project_id="p", auth_token="secret")
    msg = build_message(ctxt, "ping", {"a": 1})
    assert set(msg) == {"method", "args", "context", "msg_id", "version"}
    assert msg["version"] == "1.0"
    assert msg["method"] == "ping" and msg["args"] == {"a": 1}
    assert msg["context"]["request_id"] == ctxt.request_id
    assert "auth_token" not in msg["context"]
    assert msg["msg_id"] != build_message(ctxt, "ping", {})["msg_id"]


def test_context_to_dict_forms():
    assert context_to_dict(None) == {}
    assert context_to_dict({"user_id": "x"}) == {"user_id": "x"}
    with pytest.raises(TypeError):
        context_to_dict("nope")


class Endpoint:
    def echo(self, ctxt, value):
        return {"value": value, "request_id": ctxt.request_id,
                "current": current_context().request_id}

    def boom(self, ctxt):
        raise KeyError("missing")

    def _private(self, ctxt):
        return "secret"

    not_callable = 5


class Other:
    def echo(self, ctxt, value):
        return "second endpoint"

    def only_here(self, ctxt):
        return "other"


def test_dispatch_first_endpoint_with_context():
    d = RPCDispatcher([Endpoint(), Other()])
    out = d.dispatch({"request_id": "req-1", "user_id": "u"}, "echo",
                     {"value": 3})
    assert out == {"value": 3, "request_id": "req-1", "current": "req-1"}
    assert d.dispatch({}, "only_here", {}) == "other"
    assert current_context() is None


@pytest.mark.parametrize("method", ["_private", "not_callable", "nope", "",
                                    None, "__init__"])
def test_dispatch_unknown_or_private(method):
    with pytest.raises(NoSuchMethod):
        RPCDispatcher([Endpoint()]).dispatch({}, method, {})


def test_failure_dict():
    try:
        RPCDispatcher([Endpoint()]).dispatch({}, "boom", {})
    except KeyError as exc:
        failure = failure_dict(exc)
    assert failure["exc_type"] == "KeyError"
    assert failure["value"] == "'missing'"
    assert "Traceback" in failure["traceback"]
    assert "boom" in failure["traceback"]


def test_request_id_log_filter(caplog):
    log = logging.getLogger("test_rpc_filter")

    class Logs:
        def work(self, ctxt):
            log.warning("inside handler")

    flt = RequestIdLogFilter()
    caplog.handler.addFilter(flt)
    try:
        with caplog.at_level(logging.INFO, logger="test_rpc_filter"):
            RPCDispatcher([Logs()]).dispatch(
                {"request_id": "req-abc", "project_id": "p1"}, "work", {})
            log.warning("outside handler")
    finally:
        caplog.handler.removeFilter(flt)
    inside, outside = [r for r in caplog.records if r.name == "test_rpc_filter"]
    assert inside.request_id == "req-abc" and inside.project_id == "p1"
    assert outside.request_id == "-"
