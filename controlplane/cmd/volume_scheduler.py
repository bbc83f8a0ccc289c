"""``controlplane-volume-scheduler``: serves topic ``volume-scheduler``.

Usage: ``controlplane-volume-scheduler --config-file /etc/controlplane/controlplane.conf``
"""
import sys

from controlplane.cmd import prepare
from controlplane.db.volume_services import SCHEDULER_BINARY


def build_service(conf):
    from controlplane.volume.scheduler.manager import VolumeSchedulerManager
    from controlplane.volume.service import VolumeService
    return VolumeService(SCHEDULER_BINARY, "volume-scheduler",
                         {conf.host: VolumeSchedulerManager()},
                         zones={conf.host: conf.storage_availability_zone})


def main(argv=None):
    conf = prepare(argv, prog=SCHEDULER_BINARY)
    from controlplane.service import run_service
    return run_service(build_service(conf))


if __name__ == "__main__":
    sys.exit(main())
