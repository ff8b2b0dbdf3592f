"""Catalogue numbers for synthetic objects that never clash with real ones.

Two blocks, both far above any real number (the public catalogue reached about
61,000 in 2024; Space-Track analyst objects sit in 80,000-89,999):
- ``ALPHA5`` 270,000-339,999 ('T0000'-'Z9999'): the top of what a TLE's Alpha-5
  field can hold, so fragments can be written as 3LE;
- ``WIDE`` from 500,000,000: OMM only (CCSDS allows 9 digits), for the
  million-object catalogues.
The allocator is deterministic: the same taken set and requests give the same
numbers, so a seeded scenario or benchmark is reproducible.
"""

from __future__ import annotations

import numpy as np

ALPHA5_MAX = 339_999
ALPHA5_FIRST = 270_000
WIDE_FIRST = 500_000_000
WIDE_MAX = 999_999_999


class CatalogNumberAllocator:
    """Hands out unused catalogue numbers, skipping every number in ``taken``."""

    def __init__(self, taken=()):
        self._taken = set(
            int(x)
            for x in np.asarray(list(taken) if not isinstance(taken, np.ndarray) else taken).ravel()
        )
        self._next = {"alpha5": ALPHA5_FIRST, "wide": WIDE_FIRST}

    def take(self, n: int, block: str = "alpha5") -> np.ndarray:
        """Return ``n`` new numbers (int64, increasing) from ``block`` ('alpha5' or 'wide')."""
        if block not in self._next:
            raise ValueError(f"block must be 'alpha5' or 'wide'; got {block!r}")
        if n < 0:
            raise ValueError(f"n must be >= 0; got {n}")
        last = ALPHA5_MAX if block == "alpha5" else WIDE_MAX
        out = np.empty(n, dtype=np.int64)
        k, x = 0, self._next[block]
        while k < n:
            if x > last:
                from ssa.errors import UserError

                raise UserError(
                    f"synthetic catalogue numbers exhausted: {n} asked from the {block} block "
                    f"({ALPHA5_FIRST}-{ALPHA5_MAX}); 3LE's Alpha-5 field stops at {ALPHA5_MAX}: "
                    "write OMM instead (e.g. --omm) to use 9-digit numbers"
                )
            if x not in self._taken:
                out[k] = x
                k += 1
            x += 1
        self._next[block] = x
        self._taken.update(out.tolist())
        return out

    def taken(self, number: int) -> bool:
        return int(number) in self._taken
