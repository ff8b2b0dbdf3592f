"""Shipped scenario files (TOML) and their sensor table; installed as ``ssa.scenarios`` so
``ssa scenario run NAME`` finds them by name from any folder."""
