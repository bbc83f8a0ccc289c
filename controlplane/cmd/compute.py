"""``controlplane-compute``: serves ``compute.<node>`` for every node of
its driver (``[fake_driver] host_count``), reports resources periodically.

Usage: ``controlplane-compute --config-file /etc/controlplane/controlplane.conf``

As in Nova the compute service does not map its host into a cell: run
``controlplane-manage cell_v2 discover_hosts`` after it has started once.
"""
import sys

from controlplane.cmd import prepare
from controlplane.db.services import COMPUTE_BINARY


def main(argv=None):
    conf = prepare(argv, prog=COMPUTE_BINARY)
    from controlplane.compute.manager import ComputeManager
    from controlplane.service import Service, run_service
    manager = ComputeManager(host=conf.host)
    service = Service(COMPUTE_BINARY, "compute", [manager], host=conf.host,
                      hosts=manager.hosts)
    return run_service(service)


if __name__ == "__main__":
    sys.exit(main())
