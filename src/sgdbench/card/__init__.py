"""The report card: where one sampler stands against every built-in, on a fixed battery of
the paper's own measurements (``sgdbench card SAMPLER``; docs: Place your ordering)."""
