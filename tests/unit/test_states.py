"""The vm_state/task_state → API status mapping follows Nova's table."""
import pytest

from controlplane.compute import states


@pytest.mark.parametrize("vm_state,task_state,status", [
    (states.BUILDING, states.SCHEDULING, "BUILD"),
    (states.BUILDING, None, "BUILD"),
    (states.ACTIVE, None, "ACTIVE"),
    (states.ACTIVE, states.REBOOTING, "REBOOT"),
    (states.ACTIVE, states.REBOOTING_HARD, "HARD_REBOOT"),
    (states.ACTIVE, states.POWERING_OFF, "ACTIVE"),
    (states.STOPPED, None, "SHUTOFF"),
    (states.STOPPED, states.POWERING_ON, "SHUTOFF"),
    (states.ERROR, None, "ERROR"),
    (states.DELETED, None, "DELETED"),
    ("bogus", None, "UNKNOWN"),
])
def test_status_mapping(vm_state, task_state, status):
    assert states.status_from_state(vm_state, task_state) == status
