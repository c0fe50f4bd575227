"""Kubernetes as a settings source, one module per job:

- `kubeconfig`: loading credentials (a kubeconfig, else in-cluster), bounded in time;
- `api`: the few GET calls gccheck makes to an API server, through `gccheck.net` (deadline,
  retries, failure wording, bounded bodies);
- `resolver`: a container's environment as the kubelet builds it, from the ConfigMaps and
  Secrets of any provider (the live API, a rendered chart), with provenance;
- `workload`: `--workload`: which workload and container to read, as Settings.

Another provider of workloads (a chart's rendered manifests) reuses `resolver.container_env`
with its own `ObjectSource` and `Fixes`; only `api` talks to a cluster.
"""
