"""The rules, read bottom-up: the micro-actions that change the state (`actions`), the record
of an operation in flight (`inflight`), what each operation copies where (`plans.Plans`), what
it locks (`locks.Locking`), the whole-volume operations (`control.Control`) and the steps
that run them all (`steps.Rules`, with `steps.DS8000_RULES` the correct model)."""
