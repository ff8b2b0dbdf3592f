"""Data that ships inside the package, read with ``importlib.resources``.

- ``sources.toml``: the named sources of ``ssa catalog fetch``;
- ``catalog-2024-11-01.omm.csv.gz`` and ``satcat-2024-11-01.csv.gz``: the
  out-of-the-box catalogue snapshot and its SATCAT companion (how they were
  made: ``catalogs/make_shipped_snapshot.py``; sources and dates:
  ``catalogs/README.md``).
"""
