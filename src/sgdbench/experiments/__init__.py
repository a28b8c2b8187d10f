"""Experiments E1–E8: each module turns pipeline settings into run configs,
summarises the tidy shards against theory, and names the numbers the paper quotes."""
