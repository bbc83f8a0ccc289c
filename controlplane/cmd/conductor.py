"""``controlplane-conductor``: serves topic ``conductor``.

Usage: ``controlplane-conductor --config-file /etc/controlplane/controlplane.conf``
"""
import sys

from controlplane.cmd import prepare
from controlplane.db.services import CONDUCTOR_BINARY


def main(argv=None):
    conf = prepare(argv, prog=CONDUCTOR_BINARY)
    from controlplane.conductor.manager import ConductorManager
    from controlplane.service import Service, run_service
    service = Service(CONDUCTOR_BINARY, "conductor", [ConductorManager()], host=conf.host)
    return run_service(service)


if __name__ == "__main__":
    sys.exit(main())
