"""controlplane: compute and block-storage control plane of the Nova/Cinder design."""

__version__ = "0.1.0"
