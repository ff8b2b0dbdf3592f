"""Event history across catalogue updates: three real screenings of one object on the
shipped snapshot, each differing from the previous one by a known change of the
catalogue (an object gone, a new object, a revised radar size), give the expected new / worse / gone classification and stable ids;
a series of CDMs of one event gives its Pc history in creation order."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sgp4.api import Satrec

from ssa.catalog import Catalog
from ssa.cdm import write_kvn
from ssa.errors import UserError
from ssa.history import (
    HISTORY_FILE,
    cdm_series,
    load_history,
    plot_event,
    record_result,
    tca_tolerance_s,
)
from ssa.population.ids import CatalogNumberAllocator
from ssa.risk import assess
from ssa.risk.assess import cdms_from_result
from ssa.screening import screen

# DELTA 1 DEB (RCS SMALL, 0.5 m): crossed fast by several objects within 0.05 d on the
# shipped snapshot, one of them at Pc ~1e-7, so a 10x rise stays far above the Pc floor
# (the ISS there meets only its docked vehicles).
PRIMARY = 21369
DAYS = 0.05
FAST_KMS = 1.0  # a crossing, not a co-orbital drift: the linear shift model holds


def _with(
    catalog: Catalog, drop: int, add_sat: Satrec, add_id: int, add_from: int, rcs_size: str
) -> Catalog:
    """Return ``catalog`` without object ``drop`` and with ``add_sat`` under number
    ``add_id`` (type, owner and name copied from object ``add_from``, RCS class given)."""
    keep = catalog.subset(catalog.norad_id != drop)
    src = int(np.flatnonzero(catalog.norad_id == add_from)[0])
    return Catalog(
        satrecs=keep.satrecs + [add_sat],
        norad_id=[*keep.norad_id, add_id],
        name=[*keep.name, catalog.name[src] + " COPY"],
        intl_des=[*keep.intl_des, ""],
        object_type=[*keep.object_type, catalog.object_type[src]],
        owner=[*keep.owner, catalog.owner[src]],
        rcs_size=[*keep.rcs_size, rcs_size],
        source=[*keep.source, "test"],
        type_source="satcat",
    )


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory, shipped):
    folder = tmp_path_factory.mktemp("history")
    base = shipped
    start = base.epoch_median()
    runs = []

    def run(catalog):
        result = screen(catalog, start=start, days=DAYS, primaries=[PRIMARY])
        assess(result.rows, catalog)
        runs.append((result, record_result(folder, result)))
        return result

    first = run(base)
    rows = first.rows
    partner = np.where(
        rows["NORAD_CAT_ID_1"] == PRIMARY, rows["NORAD_CAT_ID_2"], rows["NORAD_CAT_ID_1"]
    )
    fast = (rows["TCA_RELATIVE_SPEED"] > FAST_KMS) & (rows["FLAGS"] == "")
    # One partner disappears (decayed, say) and one fast crosser is copied under a new
    # number (a new object on the same orbit).
    order = np.flatnonzero(fast & (rows["NORAD_CAT_ID_1"] == PRIMARY))
    assert len(order) >= 2, "need two fast crossers with the primary as object 1"
    # The copy is the crosser with the highest Pc (so a 10x rise is not lost under the
    # floor); a SMALL radar cross-section first (0.5 m hard-body radius) ...
    copy_row = order[int(np.argmax(rows["PC"][order]))]
    assert rows["PC"][copy_row] > 1e-10
    gone_id = int(partner[[k for k in order if k != copy_row][0]])
    copy_of = int(partner[copy_row])
    new_id = int(CatalogNumberAllocator(base.norad_id).take(1, "alpha5")[0])
    sat_copy = base.satrecs[int(np.flatnonzero(base.norad_id == copy_of)[0])]
    second_cat = _with(base, gone_id, sat_copy, new_id, copy_of, "SMALL")
    run(second_cat)
    # ... then, run 3, the SATCAT revises it to LARGE (4 m): the combined radius grows
    # from 0.5 m + r1 to 4 m + r1, so Pc (about proportional to its square while the
    # miss is far larger) rises by more than 10x; same orbit, same miss.
    run(_with(second_cat, new_id, sat_copy, new_id, copy_of, "LARGE"))
    return folder, runs, {"gone": gone_id, "new": new_id, "copy_of": copy_of}


def test_three_runs_classify_new_worse_gone_with_stable_ids(three_runs):
    folder, runs, ids = three_runs
    (r1, c1), (r2, c2), (r3, c3) = runs
    assert [c.run["run"] for _, c in runs] == [1, 2, 3]
    # Run 1: everything is new.
    assert len(c1.by_status("new")) == len(r1) and not c1.by_status("gone")
    # Run 2: the copy is the only new event, the dropped partner's event is gone, and
    # every other event is updated under the id it got in run 1.
    assert [(c.event["id1"], c.event["id2"]) for c in c2.by_status("new")] == [
        (PRIMARY, ids["new"])
    ]
    assert [c.event["id2"] for c in c2.by_status("gone")] == [ids["gone"]]
    assert not c2.by_status("worse")
    first_ids = {c.event_id for c in c1.changes}
    updated2 = {c.event_id for c in c2.by_status("updated")}
    assert updated2 == first_ids - {c.event_id for c in c2.by_status("gone")}
    # Run 3: the copy's event got worse (Pc up 10x), same id; nothing new or gone.
    worse = c3.by_status("worse")
    assert [c.event_id for c in worse] == [c2.by_status("new")[0].event_id]
    assert worse[0].point["pc"] >= 10 * worse[0].previous["pc"]
    assert worse[0].point["miss_km"] == worse[0].previous["miss_km"]
    assert not c3.by_status("new") and not c3.by_status("gone")
    assert {c.event_id for c in c3.by_status("updated")} == updated2
    # The history file keeps each event's time series, one point per run.
    doc = load_history(folder)
    assert [r["run"] for r in doc["runs"]] == [1, 2, 3]
    for eid in updated2:
        assert [p["run"] for p in doc["events"][eid]["points"]] == [1, 2, 3]
    assert (folder / "run-003-changes.csv").read_text().count("\nworse,") == 1


def test_tolerance_grows_with_element_set_age_and_stays_below_an_orbit():
    assert tca_tolerance_s(0.0, 0.0) == 10.0
    assert tca_tolerance_s(1.0, -2.0) == pytest.approx(25.0)
    assert tca_tolerance_s(500.0, 500.0) == 600.0  # never joins successive encounters


def test_incompatible_history_is_refused_and_kept(three_runs, tmp_path):
    folder, runs, _ = three_runs
    doc = json.loads((folder / HISTORY_FILE).read_text())
    doc["schema_version"] = 99
    (tmp_path / HISTORY_FILE).write_text(json.dumps(doc))
    before = (tmp_path / HISTORY_FILE).read_bytes()
    with pytest.raises(UserError, match="history schema version 99"):
        record_result(tmp_path, runs[0][0])
    assert (tmp_path / HISTORY_FILE).read_bytes() == before  # nothing overwritten


def test_cdm_series_in_creation_order(three_runs, tmp_path):
    _, runs, ids = three_runs
    created = dt.datetime(2024, 10, 30, tzinfo=dt.timezone.utc)
    paths = []
    for n, (result, _) in enumerate(runs[1:]):  # runs 2 and 3 hold the copied object
        rows = result.rows
        k = np.flatnonzero(rows["NORAD_CAT_ID_2"] == ids["new"])
        one = {name: values[k] for name, values in rows.items()}
        (cdm,) = cdms_from_result(one, creation=created + dt.timedelta(hours=8 * n))
        paths.append(write_kvn(cdm, tmp_path / f"update-{n}.cdm"))
    series = cdm_series(list(reversed(paths)))  # given newest first: sorted by creation
    pts = series["points"]
    assert [p["file"] for p in pts] == [str(p) for p in paths]
    assert pts[0]["creation_utc"] < pts[1]["creation_utc"]
    assert pts[1]["pc"] >= 10 * pts[0]["pc"]  # the Pc history, recomputed from each CDM
    assert pts[0]["time_to_tca_days"] > pts[1]["time_to_tca_days"]
    png = plot_event(series, tmp_path / "history.png")
    assert png.stat().st_size > 10_000
