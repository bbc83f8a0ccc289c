"""``controlplane-volume``: serves every backend of ``[DEFAULT] enabled_backends``
(topic ``volume.<host>@<backend>`` each).

Usage: ``controlplane-volume --config-file /etc/controlplane/controlplane.conf``
"""
import logging
import sys

from controlplane.cmd import prepare
from controlplane.db.volume_services import VOLUME_BINARY

LOG = logging.getLogger(__name__)


def build_service(conf):
    """The VolumeService of this host's enabled backends."""
    from controlplane.volume.manager import VolumeManager
    from controlplane.volume.service import VolumeService
    if not conf.enabled_backends:
        raise SystemExit("controlplane-volume: [DEFAULT] enabled_backends is empty")
    managers = {}
    zones = {}
    for backend in conf.enabled_backends:
        m = VolumeManager(backend, host=conf.host)
        managers[m.backend_host] = m
        zones[m.backend_host] = m.availability_zone
    return VolumeService(VOLUME_BINARY, "volume", managers, zones=zones)


def main(argv=None):
    conf = prepare(argv, prog=VOLUME_BINARY)
    from controlplane.service import run_service
    return run_service(build_service(conf))


if __name__ == "__main__":
    sys.exit(main())
