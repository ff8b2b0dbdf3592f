"""Synthetic objects: one catalogue-number allocator (``ids``) and one population
generator shared by the breakup/small-debris models and the million-object
benchmark catalogues."""
