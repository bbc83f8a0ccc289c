"""The conductor: builds servers (schedule → cell → compute), reschedules
failed builds and buries unschedulable ones in cell0 (Nova's
``nova.conductor.manager.ComputeTaskManager``)."""
