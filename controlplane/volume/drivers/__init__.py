"""Volume drivers: :mod:`.base` (the interface), :mod:`.file` (volumes as
files on a mounted share, Cinder's NFS driver semantics) and :mod:`.fake`
(capacity only). :func:`load_driver` picks one by name or dotted path."""
import importlib

DRIVERS = {
    "file": "controlplane.volume.drivers.file.FileDriver",
    "fake": "controlplane.volume.drivers.fake.FakeDriver",
}


def load_driver(name, backend, conf, host):
    """The driver ``name`` (``file``, ``fake`` or a dotted class path) for
    backend section ``backend`` (``conf`` its option group) on ``host``."""
    path = DRIVERS.get(name, name)
    modname, _, clsname = path.rpartition(".")
    cls = getattr(importlib.import_module(modname), clsname)
    return cls(backend=backend, conf=conf, host=host)
