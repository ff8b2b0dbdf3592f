"""OEM out: re-reading an ``ssa ephemeris`` file reproduces SGP4 states to 1 mm, GCRF
agrees with skyfield's own GCRS positions, and the header uses the keywords of
CCSDS 502.0-B-3 (ODM, OEM version 3.0) in their order."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ssa.errors import InputFileError
from ssa.oem import read_oem

ISS, GEO_SAT = 25544, 41866  # a LEO station and GOES-16 (deep space, SDP4)
POSITION_TOL_KM = 1e-6  # 1 mm
VELOCITY_TOL_KMS = 1e-9  # 1 um/s
# CCSDS 502.0-B-3 (ODM Blue Book issue 3), OEM KVN: header and metadata keywords in the
# standard's order; mandatory ones marked.
HEADER = [
    ("CCSDS_OEM_VERS", True),
    ("COMMENT", False),
    ("CLASSIFICATION", False),
    ("CREATION_DATE", True),
    ("ORIGINATOR", True),
    ("MESSAGE_ID", False),
]
METADATA = [
    ("COMMENT", False),
    ("OBJECT_NAME", True),
    ("OBJECT_ID", True),
    ("CENTER_NAME", True),
    ("REF_FRAME", True),
    ("REF_FRAME_EPOCH", False),
    ("TIME_SYSTEM", True),
    ("START_TIME", True),
    ("USEABLE_START_TIME", False),
    ("USEABLE_STOP_TIME", False),
    ("STOP_TIME", True),
    ("INTERPOLATION", False),
    ("INTERPOLATION_DEGREE", False),
]
# OEM primary vs catalogue screening: cubic Hermite between 60-s ephemeris lines is
# good to well under a metre in LEO; TCAs agree to a few ms on a km/s crossing.
OEM_MISS_TOL_KM = 1e-3
OEM_TCA_TOL_S = 0.01
CCSDS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$")


@pytest.fixture(scope="module")
def oem_files(tmp_path_factory):
    from ssa.cli import main

    out = tmp_path_factory.mktemp("oem")
    for frame in ("TEME", "GCRF"):
        assert (
            main(
                [
                    "ephemeris",
                    "--primaries",
                    str(ISS),
                    str(GEO_SAT),
                    "--days",
                    "0.5",
                    "--step",
                    "120",
                    "--frame",
                    frame,
                    "--out",
                    str(out / frame),
                ]
            )
            == 0
        )
    return out


@pytest.fixture(scope="module")
def satrecs(shipped):
    cat = shipped.select(ids=[ISS, GEO_SAT])
    return dict(zip(cat.norad_id.tolist(), cat.satrecs, strict=True))


def _keywords(lines):
    return [ln.split("=")[0].strip() if "=" in ln else ln.split()[0] for ln in lines if ln]


def test_reread_reproduces_sgp4_states_to_1_mm(oem_files, satrecs):
    for norad, sat in satrecs.items():
        (seg,) = read_oem(oem_files / "TEME" / f"{norad}.oem")
        assert seg.meta["REF_FRAME"] == "TEME" and len(seg.epochs) == 361
        jd, fr = seg.jd_fr()
        for k in range(len(jd)):  # sgp4 one epoch at a time, at the epoch read back
            e, r, v = sat.sgp4(jd[k], fr[k])
            assert e == 0
            assert np.max(np.abs(seg.states_km[k, :3] - r)) <= POSITION_TOL_KM
            assert np.max(np.abs(seg.states_km[k, 3:] - v)) <= VELOCITY_TOL_KMS


def test_gcrf_matches_skyfield_gcrs(oem_files, satrecs):
    from skyfield.api import EarthSatellite, load

    ts = load.timescale(builtin=True)
    for norad, sat in satrecs.items():
        (seg,) = read_oem(oem_files / "GCRF" / f"{norad}.oem")
        assert seg.meta["REF_FRAME"] == "GCRF"
        jd, fr = seg.jd_fr()
        body = EarthSatellite.from_satrec(sat, ts)
        # Whole UTC days in the day field, seconds of that day apart: a count of seconds
        # from 2000 would pass 5 leap seconds and land 5 s early.
        t = ts.utc(2000, 1, 1 + np.round(jd - 2451544.5).astype(int), 0, 0, fr * 86400.0)
        geo = body.at(t)
        assert np.max(np.abs(seg.states_km[:, :3] - geo.position.km.T)) <= POSITION_TOL_KM
        # skyfield adds the frame rotation's rate to velocities; it is below 1e-7 km/s.
        assert np.max(np.abs(seg.states_km[:, 3:] - geo.velocity.km_per_s.T)) < 1e-7


def test_header_and_metadata_keywords_follow_ccsds_502_0_b_3(oem_files):
    for path in sorted((oem_files / "TEME").glob("*.oem")):
        text = path.read_text().splitlines()
        start, stop = text.index("META_START"), text.index("META_STOP")
        for block, spec in ((text[:start], HEADER), (text[start + 1 : stop], METADATA)):
            used = _keywords(block)
            allowed = [k for k, _ in spec]
            assert set(used) <= set(allowed), set(used) - set(allowed)
            assert all(k in used for k, mandatory in spec if mandatory)
            order = [allowed.index(k) for k in used]
            assert order == sorted(order)  # the standard's order
        assert text[0] == "CCSDS_OEM_VERS = 3.0"
        meta = dict(ln.split(" = ", 1) for ln in text[start + 1 : stop])
        assert meta["CENTER_NAME"] == "EARTH" and meta["TIME_SYSTEM"] == "UTC"
        for key in ("START_TIME", "STOP_TIME"):
            assert CCSDS_TIME.match(meta[key])
        creation = next(ln for ln in text if ln.startswith("CREATION_DATE"))
        assert CCSDS_TIME.match(creation.split(" = ")[1])


def test_damaged_oem_names_file_and_line(oem_files, tmp_path):
    lines = (oem_files / "TEME" / f"{ISS}.oem").read_text().splitlines()
    k = lines.index("META_STOP") + 4
    lines[k] = lines[k].rsplit(" ", 2)[0]  # a state line cut short
    bad = tmp_path / "bad.oem"
    bad.write_text("\n".join(lines))
    with pytest.raises(InputFileError, match=rf"bad.oem:{k + 1}: expected an epoch and 6"):
        read_oem(bad)


@pytest.mark.slow
def test_oem_primary_gives_the_conjunctions_of_its_catalogue_object(tmp_path, shipped):
    """An OEM written from a catalogue object, screened as a primary, finds the same
    conjunctions as the catalogue screening of that object."""
    import math

    from ssa.oem import segment_for, write_oem
    from ssa.screening import screen
    from ssa.screening.oem_primary import screen_oem

    primary, days, step_s, threshold_km = 38013, 0.1, 60.0, 5.0  # ASAP-S, many crossers
    catalog = shipped
    jd0, fr0 = catalog.epoch_median()
    fr0 = math.floor(fr0 * 86400.0) / 86400.0
    i = int(np.flatnonzero(catalog.norad_id == primary)[0])
    seg = segment_for(catalog.satrecs[i], primary, "ASAP-S", "", jd0, fr0, days, step_s)
    (back,) = read_oem(write_oem(tmp_path / "asap-s.oem", [seg]))
    mine = screen_oem(back, catalog, threshold_km, exclude=(primary,))
    ref = screen(
        catalog, start=(jd0, fr0), days=days, threshold_km=threshold_km, primaries=[primary]
    )
    rows = ref.rows
    other = np.where(
        rows["NORAD_CAT_ID_1"] == primary, rows["NORAD_CAT_ID_2"], rows["NORAD_CAT_ID_1"]
    )
    want = sorted(
        zip(
            other.tolist(),
            (rows["TCA_JD"] + rows["TCA_FR"]).tolist(),
            rows["TCA_RANGE"].tolist(),
            strict=True,
        ),
        key=lambda x: x[1],
    )
    assert len(want) >= 5
    assert [e.norad_id for e in mine] == [w[0] for w in want]
    for e, (_, tca_days, miss_km) in zip(mine, want, strict=True):
        assert abs((e.tca_jd + e.tca_fr) - tca_days) * 86400.0 < OEM_TCA_TOL_S
        assert abs(e.miss_km - miss_km) < OEM_MISS_TOL_KM
