"""JsonFilter (Nova): a JSON query in the ``query`` scheduler hint.

The query is a prefix expression ``[op, arg, ...]``; an argument is a
number, a string, a nested expression, or a ``$variable`` naming a host
field (``$free_ram_mb``, ``$free_disk_mb``, ``$vcpus_total``,
``$vcpus_used``, ``$total_usable_ram_mb``, ``$total_usable_disk_gb``,
``$memory_mb_used``, ``$local_gb_used``, ``$num_instances``,
``$hypervisor_type``, ``$hypervisor_version``, ``$host``, ``$nodename``,
``$stats.<key>``). Operators, with Nova's meaning:

* ``=``, ``<``, ``>``, ``<=``, ``>=``: the first argument compared with each
  of the others (all must hold; fewer than two arguments: False);
* ``in``: the first argument equals one of the others;
* ``not``: negation of its argument (several arguments: True when any of
  them is false — Nova returns a list that counts as "any");
* ``and``, ``or``: all / any of the arguments (``and`` of nothing is True).

A variable the host lacks is dropped from the argument list, as in Nova.
The whole expression is evaluated once over all hosts: per-host variables
are numpy arrays, constants stay scalars, and numpy broadcasting does the
rest. An unknown operator or a type error makes every host fail (logged).
"""
import logging
import operator

import numpy as np

from controlplane.scheduler.filters.base import BaseHostFilter

LOG = logging.getLogger(__name__)

VARIABLES = ("free_ram_mb", "free_disk_mb", "vcpus_total", "vcpus_used",
             "total_usable_ram_mb", "total_usable_disk_gb", "memory_mb_used",
             "local_gb_used", "num_instances", "hypervisor_type",
             "hypervisor_version", "host", "nodename")


class JsonQueryError(ValueError):
    pass


def _to_mask(value, n):
    """A result (array, scalar, list from ``not``) as a bool array of length n."""
    if isinstance(value, list):
        if not value:
            return np.zeros(n, dtype=bool)
        return np.logical_or.reduce([_to_mask(v, n) for v in value])
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            return value
        if value.dtype == object:
            return np.fromiter((bool(v) for v in value), dtype=bool, count=n)
        return value != 0
    return np.full(n, bool(value))


def _compare(op):
    def run(args, n):
        if len(args) < 2:
            return False
        lhs = args[0]
        result = None
        for rhs in args[1:]:
            r = op(lhs, rhs)
            if isinstance(r, np.ndarray) and r.dtype == object:
                r = r.astype(bool)
            result = r if result is None else np.logical_and(result, r)
        return result
    return run


def _in(args, n):
    if len(args) < 2:
        return False
    return _compare(operator.eq)([args[0], args[1]], n) if len(args) == 2 else \
        np.logical_or.reduce([_to_mask(_compare(operator.eq)([args[0], a], n), n)
                              for a in args[1:]])


def _not(args, n):
    return [np.logical_not(_to_mask(a, n)) for a in args]


def _and(args, n):
    if not args:
        return True
    return np.logical_and.reduce([_to_mask(a, n) for a in args])


def _or(args, n):
    if not args:
        return False
    return np.logical_or.reduce([_to_mask(a, n) for a in args])


COMMANDS = {"=": _compare(operator.eq), "<": _compare(operator.lt),
            ">": _compare(operator.gt), "<=": _compare(operator.le),
            ">=": _compare(operator.ge), "in": _in, "not": _not,
            "and": _and, "or": _or}


def _variable(states, name):
    path = name[1:].split(".")
    head = path[0]
    if head == "stats" and len(path) > 1:
        per_group = np.array([(g.stats or {}).get(path[1]) for g in states.cap_groups]
                             + [None], dtype=object)[:-1]
        values = per_group[states.cap_code]
        for part in path[2:]:
            values = np.array([v.get(part) if isinstance(v, dict) else None
                               for v in values], dtype=object)
        if all(v is None for v in per_group):
            return None
        return values
    if len(path) == 1 and head in VARIABLES:
        return getattr(states, head)
    return None


def evaluate(query, states):
    """Evaluate a parsed query over all hosts; returns a bool array."""
    n = states.n

    def walk(q):
        if not q:
            return True
        cmd = q[0]
        fn = COMMANDS.get(cmd)
        if fn is None:
            raise JsonQueryError("unknown JsonFilter operator %r" % (cmd,))
        args = []
        for arg in q[1:]:
            if isinstance(arg, list):
                arg = walk(arg)
            elif isinstance(arg, str):
                arg = (_variable(states, arg) if arg.startswith("$") else arg) if arg else None
            if arg is not None:
                args.append(arg)
        return fn(args, n)

    return _to_mask(walk(query), n)


class JsonFilter(BaseHostFilter):
    """Pass hosts for which the ``query`` hint evaluates true."""

    def filter_mask(self, states, req):
        query = req.json_query
        if not query:
            return None
        try:
            return evaluate(query, states)
        except (JsonQueryError, TypeError, ValueError) as exc:
            LOG.warning("JsonFilter query %r rejected every host: %s", query, exc)
            return np.zeros(states.n, dtype=bool)
