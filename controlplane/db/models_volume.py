"""Block-storage tables, in the API database (Cinder's single database).

Source of the layout: cinder/db/sqlalchemy/models.py, trimmed. Volumes are
global, not cell-scoped. Every timestamp is a naive UTC datetime written by
Python (``controlplane.db.services.utcnow``), never the server clock.

Soft delete as Cinder: ``deleted`` (bool) and ``deleted_at`` on volumes,
snapshots and attachments. Volume types are deleted for real (the API
refuses while volumes use them).

``volume_pools`` is the capability report of each backend pool plus the
scheduler's claims: the volume service writes the *reported* columns
(total/free capacity, thin/thick support, ratio, reserved percentage,
capabilities); only claims write ``allocated_capacity_gb`` and
``provisioned_capacity_gb`` (the sum of ``volume_allocations``), like
``compute_nodes.*_used``.
"""
from datetime import datetime

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer,
                        String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from controlplane.db.models_api import ApiBase


def _utcnow():
    from controlplane.db.services import utcnow
    return utcnow()


class _Times:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, onupdate=_utcnow)


class _SoftDelete:
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


class VolumeType(_Times, ApiBase):
    __tablename__ = "volume_types"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)


class VolumeTypeExtraSpec(_Times, ApiBase):
    __tablename__ = "volume_type_extra_specs"
    __table_args__ = (UniqueConstraint("volume_type_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volume_type_id: Mapped[str] = mapped_column(
        ForeignKey("volume_types.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))


class VolumeTypeProject(_Times, ApiBase):
    """Access of a project to a private volume type (os-volume-type-access)."""
    __tablename__ = "volume_type_projects"
    __table_args__ = (UniqueConstraint("volume_type_id", "project_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volume_type_id: Mapped[str] = mapped_column(
        ForeignKey("volume_types.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(String(255))


class Volume(_Times, _SoftDelete, ApiBase):
    __tablename__ = "volumes"
    __table_args__ = (Index("volumes_project_deleted_idx", "project_id", "deleted"),
                      Index("volumes_host_idx", "host"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    display_description: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    #: new size while an extend is in flight (counted by quota), else NULL
    pending_size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(255))
    previous_status: Mapped[str | None] = mapped_column(String(255))
    attach_status: Mapped[str] = mapped_column(String(255), default="detached")
    migration_status: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    volume_type_id: Mapped[str | None] = mapped_column(String(36))
    host: Mapped[str | None] = mapped_column(String(255))
    source_volid: Mapped[str | None] = mapped_column(String(36))
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    image_id: Mapped[str | None] = mapped_column(String(36))
    bootable: Mapped[bool] = mapped_column(Boolean, default=False)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_location: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    glance_metadata: Mapped[dict] = mapped_column(JSON, default=dict)
    launched_at: Mapped[datetime | None] = mapped_column(DateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(DateTime)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime)


class Snapshot(_Times, _SoftDelete, ApiBase):
    __tablename__ = "snapshots"
    __table_args__ = (Index("snapshots_project_deleted_idx", "project_id", "deleted"),
                      Index("snapshots_volume_id_idx", "volume_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36))
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(255))
    progress: Mapped[str | None] = mapped_column(String(255))
    volume_size: Mapped[int] = mapped_column(Integer)
    volume_type_id: Mapped[str | None] = mapped_column(String(36))
    display_name: Mapped[str | None] = mapped_column(String(255))
    display_description: Mapped[str | None] = mapped_column(String(255))
    provider_location: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)


class VolumeAttachment(_Times, _SoftDelete, ApiBase):
    __tablename__ = "volume_attachments"
    __table_args__ = (Index("volume_attachments_volume_idx", "volume_id", "deleted"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36))
    instance_uuid: Mapped[str | None] = mapped_column(String(36))
    attached_host: Mapped[str | None] = mapped_column(String(255))
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    attach_mode: Mapped[str] = mapped_column(String(36), default="rw")
    attach_status: Mapped[str] = mapped_column(String(255))
    attach_time: Mapped[datetime | None] = mapped_column(DateTime)
    detach_time: Mapped[datetime | None] = mapped_column(DateTime)
    connector: Mapped[dict | None] = mapped_column(JSON)
    connection_info: Mapped[dict | None] = mapped_column(JSON)


class VolumeService(_Times, ApiBase):
    """One row per (host, binary); a ``controlplane-volume`` process has one
    row per backend, host ``hostname@backend`` (Cinder's layout)."""
    __tablename__ = "volume_services"
    __table_args__ = (UniqueConstraint("host", "binary"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    report_count: Mapped[int] = mapped_column(Integer, default=0)


class VolumePool(ApiBase):
    __tablename__ = "volume_pools"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)   # host@backend#pool
    host: Mapped[str] = mapped_column(String(255))                # hostname
    backend: Mapped[str] = mapped_column(String(255))             # backend section name
    pool: Mapped[str] = mapped_column(String(255))
    volume_backend_name: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    total_capacity_gb: Mapped[float] = mapped_column(Float, default=0.0)
    free_capacity_gb: Mapped[float] = mapped_column(Float, default=0.0)
    allocated_capacity_gb: Mapped[float] = mapped_column(Float, default=0.0)
    provisioned_capacity_gb: Mapped[float] = mapped_column(Float, default=0.0)
    thin_provisioning_support: Mapped[bool] = mapped_column(Boolean, default=False)
    thick_provisioning_support: Mapped[bool] = mapped_column(Boolean, default=True)
    max_over_subscription_ratio: Mapped[float] = mapped_column(Float, default=20.0)
    reserved_percentage: Mapped[int] = mapped_column(Integer, default=0)
    capabilities: Mapped[dict] = mapped_column(JSON, default=dict)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class VolumeAllocation(ApiBase):
    """The capacity a volume holds on a pool (one row per volume)."""
    __tablename__ = "volume_allocations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), unique=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("volume_pools.id", ondelete="CASCADE"),
                                         index=True)
    size_gb: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_utcnow)


class VolumeQuota(_Times, ApiBase):
    """Per-project block-storage limits (Cinder's ``quotas``)."""
    __tablename__ = "volume_quotas"
    __table_args__ = (UniqueConstraint("project_id", "resource"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class VolumeQuotaClass(_Times, ApiBase):
    """Block-storage limits of a quota class (``default``)."""
    __tablename__ = "volume_quota_classes"
    __table_args__ = (UniqueConstraint("class_name", "resource"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_name: Mapped[str] = mapped_column(String(255))
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class VolumeQuotaGeneration(ApiBase):
    """One row per project; bumping it serialises the project's volume and
    snapshot check-and-create (see controlplane.db.volume_quotas)."""
    __tablename__ = "volume_quota_generations"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)

