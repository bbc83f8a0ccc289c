"""Matching a host value against a flavor extra spec requirement.

Nova's ``extra_specs_ops.match(value, req)`` language: ``req`` is either a
plain string (string equality) or an operator followed by operands:

=========  ==============================================================
``=``      numeric, value >= operand (Nova's historic meaning)
``==``     numeric equality; ``!=`` numeric inequality
``>=``     numeric; ``<=`` numeric
``s==``    string equality; ``s!=``, ``s<``, ``s<=``, ``s>``, ``s>=``
``<in>``   operand is a substring of value
``<all-in>`` every operand is contained in value
``<or>``   ``<or> a <or> b``: value equals one of the alternatives
=========  ==============================================================

A value that cannot be compared (non-numeric for a numeric operator, None)
does not match.
"""
import operator


def _num(op):
    return lambda x, y: op(float(x), float(y))


OPS = {
    "=": _num(operator.ge),
    "==": _num(operator.eq),
    "!=": _num(operator.ne),
    ">=": _num(operator.ge),
    "<=": _num(operator.le),
    "s==": operator.eq, "s!=": operator.ne,
    "s<": operator.lt, "s<=": operator.le,
    "s>": operator.gt, "s>=": operator.ge,
    "<in>": lambda x, y: y in x,
    "<all-in>": lambda x, ys: all(y in x for y in ys),
}


def match(value, req):
    """True when host ``value`` satisfies requirement ``req`` (both strings).

    :param value: the host side (aggregate metadata value, capability), or None.
    :param req: the flavor extra spec value, e.g. ``">= 4"``, ``"<or> a <or> b"``.
    """
    req = "" if req is None else str(req)
    words = req.split()
    op = words.pop(0) if words else None
    method = OPS.get(op)
    if op != "<or>" and method is None:
        return value is not None and str(value) == req
    if value is None:
        return False
    value = str(value) if not isinstance(value, str) else value
    if op == "<or>":
        alternatives = [w for i, w in enumerate(words) if i % 2 == 0]
        return value in alternatives
    if not words:
        return False
    try:
        if op == "<all-in>":
            return bool(method(value, words))
        return bool(method(value, words[0]))
    except (TypeError, ValueError):
        return False
