"""Workload inputs: what the host issues, read from fio-style `[[workload]]` tables
(`synthetic`), fio job files (`fio`), block traces in four formats (`traces`), fitted onto a
volume (`fitting`) and summarised before a replay (`stats`)."""
