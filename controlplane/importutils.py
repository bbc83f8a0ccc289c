"""Importing modules that may not exist (yet).

The API serves the resource modules and the policy package loads the rule
modules that are present, so a process can start with a subset of them.
"""
import importlib


def import_optional(modname):
    """The module ``modname`` (dotted path), or None when there is no such
    module. A module that exists but fails to import (including one whose
    own imports are missing) raises as usual."""
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name != modname:
            raise
        return None
