"""Instance states as Nova defines them.

Sources: nova/compute/vm_states.py, task_states.py, power_state.py and the
API status mapping of nova/api/openstack/common.py (``_STATE_MAP``), as
documented in the Compute API guide "Server concepts → Server status".
"""

# vm_state: the stable state the instance is in
ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESCUED = "rescued"
RESIZED = "resized"
SOFT_DELETED = "soft-delete"
DELETED = "deleted"
ERROR = "error"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"

# task_state: the transition under way (None when idle)
SCHEDULING = "scheduling"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
NETWORKING = "networking"
SPAWNING = "spawning"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBOOTING = "rebooting"
REBOOT_PENDING = "reboot_pending"
REBOOT_STARTED = "reboot_started"
REBOOTING_HARD = "rebooting_hard"
REBOOT_PENDING_HARD = "reboot_pending_hard"
REBOOT_STARTED_HARD = "reboot_started_hard"
DELETING = "deleting"

# power_state: what the hypervisor reports (integers, as in Nova)
NOSTATE = 0x00
RUNNING = 0x01
PAUSED_POWER = 0x03
SHUTDOWN = 0x04
CRASHED = 0x06
SUSPENDED_POWER = 0x07

POWER_STATE_NAMES = {NOSTATE: "NOSTATE", RUNNING: "Running", PAUSED_POWER: "Paused",
                     SHUTDOWN: "Shutdown", CRASHED: "Crashed",
                     SUSPENDED_POWER: "Suspended"}

# vm_state -> {task_state -> API status}; "default" when task_state is not listed
_STATUS_MAP = {
    None: {"default": "UNKNOWN"},
    BUILDING: {"default": "BUILD"},
    ACTIVE: {
        "default": "ACTIVE",
        REBOOTING: "REBOOT", REBOOT_PENDING: "REBOOT", REBOOT_STARTED: "REBOOT",
        REBOOTING_HARD: "HARD_REBOOT", REBOOT_PENDING_HARD: "HARD_REBOOT",
        REBOOT_STARTED_HARD: "HARD_REBOOT",
    },
    STOPPED: {
        "default": "SHUTOFF",
        REBOOTING: "REBOOT", REBOOT_PENDING: "REBOOT", REBOOT_STARTED: "REBOOT",
        REBOOTING_HARD: "HARD_REBOOT", REBOOT_PENDING_HARD: "HARD_REBOOT",
        REBOOT_STARTED_HARD: "HARD_REBOOT",
    },
    PAUSED: {"default": "PAUSED"},
    SUSPENDED: {"default": "SUSPENDED"},
    RESCUED: {"default": "RESCUE"},
    RESIZED: {"default": "VERIFY_RESIZE"},
    SOFT_DELETED: {"default": "SOFT_DELETED"},
    SHELVED: {"default": "SHELVED"},
    SHELVED_OFFLOADED: {"default": "SHELVED_OFFLOADED"},
    DELETED: {"default": "DELETED"},
    ERROR: {"default": "ERROR"},
}


def status_from_state(vm_state, task_state=None):
    """Map (vm_state, task_state) to the API ``status`` string.

    :returns: one of ``BUILD``, ``ACTIVE``, ``SHUTOFF``, ``REBOOT``,
        ``HARD_REBOOT``, ``ERROR``, ``DELETED``, ... (``UNKNOWN`` for an
        unknown vm_state).
    """
    task_map = _STATUS_MAP.get(vm_state, {"default": "UNKNOWN"})
    return task_map.get(task_state, task_map["default"])
