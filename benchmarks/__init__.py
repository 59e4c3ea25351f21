"""The benchmarks: each a module run as ``python -m benchmarks.<name>`` from the repository root.

Shared pieces: ``common`` (provenance, presets, the result JSON), ``mnist``, ``datasets``,
``classifier``, ``compare``, ``gan``, ``grids``, ``testset``; ``collate`` writes
``docs/benchmarks.md`` from ``results/*.json``. See ``benchmarks/README.md``.
"""
