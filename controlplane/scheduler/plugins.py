"""Instantiating scheduler plugins (filters, weighers) by class name, as
Nova's ``enabled_filters`` / ``weight_classes`` options name them."""
from controlplane import exception


def load_by_name(registry, names, kind, option):
    """Instances ``registry[name]()`` for ``names``, in that order.

    A name may be a dotted path (``nova.scheduler.filters.RamFilter``): only
    its last part counts; blank names are skipped.

    :param registry: ``{class name: class}``.
    :param kind: ``"filter"`` or ``"weigher"``, for the error message.
    :param option: the configuration option the names come from, e.g.
        ``"[filter_scheduler] enabled_filters"``, for the error message.
    :raises SchedulerConfigError: a name is not in ``registry`` (so that a
        typo stops the scheduler at start).
    """
    names = [n.strip().rsplit(".", 1)[-1] for n in names if n and n.strip()]
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise exception.SchedulerConfigError(
            reason="unknown %s(s) %s in %s; known %ss: %s" % (
                kind, ", ".join(unknown), option, kind, ", ".join(sorted(registry))))
    return [registry[n]() for n in names]
