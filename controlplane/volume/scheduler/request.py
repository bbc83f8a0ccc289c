"""The scheduling request of one volume (from Cinder's request_spec and
filter_properties)."""
import dataclasses
import json

from controlplane.volume.scheduler import capacity


@dataclasses.dataclass
class VolumeRequest:
    """What the filters and weighers read.

    :ivar volume_id: the volume; :ivar size: GiB to place;
    :ivar availability_zone: requested zone or None;
    :ivar extra_specs: the volume type's extra specs;
    :ivar thin: False when the type asks ``provisioning:type=thick``;
    :ivar source_pool: pool of the source snapshot's volume / source volume
        (the only candidate: clones stay on their source's backend);
    :ivar excluded: backends (``host@backend`` or pool names) already tried
        (the retry list).
    """
    volume_id: str
    size: int
    availability_zone: str = None
    extra_specs: dict = dataclasses.field(default_factory=dict)
    thin: bool = True
    source_pool: str = None
    excluded: tuple = ()

    @classmethod
    def from_spec(cls, request_spec, filter_properties=None, source_pool=None):
        """Build from a request_spec (see ``SchedulerAPI.create_volume``)."""
        vtype = request_spec.get("volume_type") or {}
        specs = dict(vtype.get("extra_specs") or {})
        retry = (filter_properties or {}).get("retry") or {}
        props = request_spec.get("volume_properties") or {}
        return cls(volume_id=request_spec.get("volume_id"),
                   size=int(request_spec.get("size") or props.get("size") or 0),
                   availability_zone=(request_spec.get("availability_zone")
                                      or props.get("availability_zone")),
                   extra_specs=specs, thin=capacity.request_is_thin(specs),
                   source_pool=source_pool,
                   excluded=tuple(retry.get("backends") or ()))

    def specs_key(self):
        """Hashable key of the extra specs (memo of static filter masks)."""
        return json.dumps(self.extra_specs, sort_keys=True)
