"""A Helm chart as a settings source, one module per job:

- `render`: render a chart with Helm itself (the `helm` binary, else the Helm SDK);
- `knowledge`: charts.yaml: which workloads run the W&B server, chart versions that break GC;
- `source`: `--chart`: the rendered server workloads through the kubelet-semantics resolver.
"""
