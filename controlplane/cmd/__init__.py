"""Console scripts: ``controlplane-conductor``, ``-scheduler``, ``-compute``
and ``controlplane-manage``.

:func:`prepare` is what every service script does first: parse
``--config-file`` (oslo.config) and set up logging.
"""
import sys

from controlplane import conf as conf_mod
from controlplane import log


def prepare(argv=None, prog=None):
    """Parse ``argv`` (default ``sys.argv[1:]``) into CONF and set up logging.

    :returns: CONF.
    """
    argv = sys.argv[1:] if argv is None else argv
    conf = conf_mod.parse_args(argv, prog=prog)
    log.setup_logging(conf, program=prog)
    return conf
