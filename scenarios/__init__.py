"""Bundled data, installed as package data: what-if scenarios (`*.toml`), model-checker
configurations (`check/*.toml`) and op logs (`oplogs/*.jsonl`). Found with `flashsim.bundled`."""
