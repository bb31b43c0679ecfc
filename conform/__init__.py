"""Conformance of flashsim's semantics with a real copy-before-write implementation: QEMU's
block layer under `qemu-storage-daemon`, driven through QMP and read and written over NBD
(docs/conformance.md). An adapter: nothing in `flashsim.models` or `flashsim.sim` imports it."""
