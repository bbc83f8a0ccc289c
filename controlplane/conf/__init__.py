"""Configuration: oslo.config options in the INI sections operators know.

``CONF`` is the process-wide ``oslo_config.cfg.ConfigOpts``. Each module of
this package registers the options of one section; :func:`parse_args` reads
``--config-file`` (default ``/etc/controlplane/controlplane.conf`` when it
exists) and the command line.
"""
import os

from oslo_config import cfg

from controlplane.conf import (api, compute, database, default, quota,
                               scheduler, volume, volume_api)

CONF = cfg.CONF

for _mod in (default, database, api, scheduler, quota, compute, volume, volume_api):
    _mod.register_opts(CONF)

DEFAULT_CONFIG_FILE = "/etc/controlplane/controlplane.conf"


def parse_args(argv, prog=None, default_config_files=None):
    """Parse ``argv`` (without the program name) into ``CONF``.

    :param argv: command-line arguments, e.g. ``sys.argv[1:]``.
    :param default_config_files: INI files read when no ``--config-file``
        is given; defaults to ``/etc/controlplane/controlplane.conf`` if it
        exists.
    """
    if default_config_files is None:
        default_config_files = (
            [DEFAULT_CONFIG_FILE] if os.path.exists(DEFAULT_CONFIG_FILE) else [])
    CONF(argv, project="controlplane", prog=prog,
         default_config_files=default_config_files)
    return CONF


def list_opts():
    """Every option group and its options, for ``oslo-config-generator``."""
    out = []
    for mod in (default, database, api, scheduler, quota, compute, volume, volume_api):
        out.extend(mod.list_opts())
    return out
