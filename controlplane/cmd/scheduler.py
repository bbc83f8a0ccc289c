"""``controlplane-scheduler``: serves topic ``scheduler``.

Usage: ``controlplane-scheduler --config-file /etc/controlplane/controlplane.conf``
"""
import sys

from controlplane.cmd import prepare
from controlplane.db.services import SCHEDULER_BINARY


def main(argv=None):
    conf = prepare(argv, prog=SCHEDULER_BINARY)
    from controlplane.scheduler.manager import SchedulerManager
    from controlplane.service import Service, run_service
    service = Service(SCHEDULER_BINARY, "scheduler", [SchedulerManager()], host=conf.host)
    return run_service(service)


if __name__ == "__main__":
    sys.exit(main())
