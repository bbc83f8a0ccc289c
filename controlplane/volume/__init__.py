"""Block storage (Cinder's design): volume service, drivers, scheduler.

See docs/architecture.md and /work/volume-design.md. ``states`` holds the
volume and snapshot state machines, ``exception`` the errors the db layer
and the services raise, ``rpcapi`` the client of the volume service and
``scheduler.rpcapi`` the client of the volume scheduler.
"""
