"""NASA Standard Breakup Model fragments as SGP4 element sets.

``model`` holds the model's distributions (pure numpy); ``fit`` turns a TEME state
into SGP4 mean elements; ``event`` fragments catalogued parents into a ``Catalog``.
"""
