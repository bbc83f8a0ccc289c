"""Failover drills: a workload through the VIP while one fault is injected,
then healed; recovery is timed and the books are checked.

Modules (one concept each):

- ``client``   a small Keystone v3 / Compute v2.1 REST client (requests),
  configured from a ``clouds.yaml`` cloud;
- ``journal``  the JSON-lines journal of requests and drill events;
- ``workload`` N client threads booting, listing, stopping/starting and
  deleting servers, journaling every request;
- ``books``    the after-recovery checks: no acknowledged create lost, no
  duplicate, nothing stuck in BUILD/deleting, quota usage = server count;
- ``health``   inventory-driven probes (Pacemaker, Galera, RabbitMQ, compute
  services) and the fault targets (VIP holder, Galera writer, RabbitMQ node
  with most quorum-queue leaders);
- ``targets``  each drill's targets (issue 5), never loosened;
- ``report``   downtime/recovery math, target verdicts, JSON per drill,
  the summary table and the PNG timeline;
- ``local``    the same loop against a stack of local processes
  (``tools.stack``), with a crude kill -9 fault, to test the framework
  without the lab.

CLI: ``python -m tools.drills --help``; playbooks: ``playbooks/drills/``;
documentation: ``docs/drills.md``.
"""
