"""Make docs/event-history.png, the README's picture of the event-history figure.

    .venv/bin/python docs/make_history_figure.py

Three real screenings of DELTA 1 DEB (21369) on the shipped snapshot, 0.05 d: the
second adds a copy of its closest fast crosser under a new number with a SMALL
radar cross-section, the third revises that copy's class to LARGE (the same
changes as tests/test_history.py). Each run writes the event's CDM, stamped as
created 3, 2 and 1 days before TCA (one catalogue update a day); ``ssa pc CDM...
--history`` orders them by CREATION_DATE and draws the figure.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import numpy as np

from ssa.catalog import Catalog
from ssa.cdm import write_kvn
from ssa.history import cdm_series, plot_event
from ssa.population.ids import CatalogNumberAllocator
from ssa.risk import assess
from ssa.risk.assess import cdms_from_result
from ssa.screening import screen
from ssa.snapshot import shipped_catalog, shipped_satcat

PRIMARY, PARTNER, DAYS = 21369, 42313, 0.05


def main(out: Path) -> Path:
    base = Catalog.load(shipped_catalog(), satcat=shipped_satcat())
    start = base.epoch_median()
    new_id = int(CatalogNumberAllocator(base.norad_id).take(1, "alpha5")[0])
    src = int(np.flatnonzero(base.norad_id == PARTNER)[0])
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, rcs in enumerate(["SMALL", "SMALL", "LARGE"]):
            cat = Catalog(
                satrecs=base.satrecs + [base.satrecs[src]],
                norad_id=[*base.norad_id, new_id],
                name=[*base.name, "DEB COPY"],
                intl_des=[*base.intl_des, ""],
                object_type=[*base.object_type, "DEBRIS"],
                owner=[*base.owner, base.owner[src]],
                rcs_size=[*base.rcs_size, rcs],
                source=[*base.source, "copy"],
                type_source="satcat",
            )
            result = screen(cat, start=start, days=DAYS, primaries=[PRIMARY])
            assess(result.rows, cat)
            k = np.flatnonzero(result.rows["NORAD_CAT_ID_2"] == new_id)
            one = {name: values[k] for name, values in result.rows.items()}
            tca = dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc) + dt.timedelta(
                days=float(one["TCA_JD"][0] + one["TCA_FR"][0] - 2451545.0)
            )
            (cdm,) = cdms_from_result(one, cat, creation=tca - dt.timedelta(days=3 - n))
            paths.append(write_kvn(cdm, Path(tmp) / f"update-{n}.cdm"))
        return plot_event(cdm_series(paths), out)


if __name__ == "__main__":
    print(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/event-history.png")))
