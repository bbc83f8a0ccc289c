"""JSON serialization of RPC message bodies.

Every message on the wire is UTF-8 JSON. Values JSON does not know are
turned into primitives on the way out:

* ``datetime.datetime`` / ``date`` / ``time`` → ISO-8601 string
  (``datetime.isoformat()``; a naive datetime stays naive, as the database
  stores UTC without zone);
* ``uuid.UUID`` and ``decimal.Decimal`` → string;
* tuples, sets, frozensets → lists;
* ``enum.Enum`` → its value;
* objects with ``to_dict()`` (e.g. :class:`controlplane.context.RequestContext`)
  → that dict;
* ``bytes`` → UTF-8 text.

Nothing is converted back automatically (JSON has no datetime type): the
receiver calls :func:`parse_datetime` or :func:`restore_datetimes` on the
fields it knows to be times, the way Nova objects re-hydrate their fields.
"""
import datetime
import decimal
import enum
import json
import uuid


def to_primitive(value):
    """Return ``value`` made only of dict, list, str, int, float, bool, None.

    :raises TypeError: for a value of a type the rules above do not cover.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: to_primitive(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_primitive(v) for v in value]
    return to_primitive(_default(value))


def _default(value):
    """``json`` hook: one conversion step for a non-JSON value."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError("Object of type %s cannot be sent over RPC"
                    % type(value).__name__)


def dumps(obj):
    """Serialize ``obj`` to compact UTF-8 JSON bytes (see module rules).

    :raises TypeError: if part of ``obj`` cannot be converted.
    """
    return json.dumps(obj, default=_default, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def loads(data):
    """Parse a message body (bytes or str) back into Python objects.

    :raises ValueError: if ``data`` is not valid JSON.
    """
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("utf-8")
    return json.loads(data)


def datetime_to_str(value):
    """ISO-8601 text of a datetime (None stays None)."""
    return None if value is None else value.isoformat()


def parse_datetime(value):
    """Turn what :func:`dumps` made of a datetime back into a datetime.

    :param value: ISO-8601 string (a trailing ``Z`` is accepted as UTC), a
        datetime (returned as is) or None (returned as None).
    :raises ValueError: for a string that is not ISO-8601.
    """
    if value is None or isinstance(value, datetime.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("Not an ISO-8601 datetime: %r" % (value,))
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(text)


def restore_datetimes(values, keys):
    """Return a copy of dict ``values`` with the named ``keys`` parsed back.

    Keys missing from ``values`` are ignored; ``None`` stays ``None``.
    Example: ``restore_datetimes(instance, ("created_at", "launched_at"))``.
    """
    out = dict(values)
    for key in keys:
        if key in out:
            out[key] = parse_datetime(out[key])
    return out
