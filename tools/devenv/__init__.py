"""controlplane development environment: real Keystone and Glance next to
the shared MariaDB, RabbitMQ and memcached (see docs/devenv.md).

Run ``python3 -m tools.devenv --help`` from the repository root. Tests use::

    from tools.devenv import ensure_up
    info = ensure_up()          # devenv.json content, see outputs.py

Stdlib only, so that a bare Debian python3 can run it.
"""

from .api import deps, down, ensure_up, is_up, status, up  # noqa: F401
from .outputs import load as load_info  # noqa: F401
from .proc import DevenvError  # noqa: F401
