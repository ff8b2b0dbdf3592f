"""ssa: open space situational awareness simulator.

The curated public API lives here; everything else is internal.
"""

__version__ = "0.1.0"
