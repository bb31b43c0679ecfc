"""The simulator: the core's steps driven in simulated time (SimPy), with workload inputs
(`inputs`), scenario files (`scenario`), metrics, outputs and graphs. See docs/architecture.md."""
