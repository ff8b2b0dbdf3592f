"""ssa.geometry pinned to independent references: hand-worked frames, skyfield's
full IAU chain for Earth-fixed and GCRF positions, datetime arithmetic for time."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec
from sgp4.earth_gravity import wgs72

from ssa.geometry import (
    EARTH_RADIUS_KM,
    MU_KM3_S2,
    datetime_to_jd,
    encounter_frame,
    format_utc,
    format_utc_ms,
    jd_to_datetime,
    jd_to_datetime64,
    osculating_apsides,
    rtn_basis,
    rtn_components,
    rtn_to_inertial_cov,
    teme_to_gcrf_rotation,
    teme_to_geodetic,
    teme_to_itrf,
)

UNIT_ATOL = 1e-15  # unit vectors of exact hand cases, float64
ROTATION_ATOL = 1e-12  # products of a few rotations, relative to unit scale
# Earth rotation rate (rad/s): UT1 - UTC of dut1 seconds turns the Earth by this x dut1.
EARTH_RATE_RAD_S = 7.292115e-5
# Left after removing the UT1 - UTC rotation: TEME_to_ITRF's GMST vs skyfield's
# IAU 2000 chain (equation of the equinoxes terms), measured < 0.5 mm at LEO.
ITRF_MODEL_KM = 1e-5
LON_MODEL_DEG = 1e-9
GEODETIC_LAT_DEG = 1e-7  # skyfield's and our iterations converge to sub-mm
GEODETIC_ALT_KM = 1e-6
GCRF_KM = 1e-6  # the same skyfield rotation, two time constructions
APSIS_ATOL_KM = 1e-8  # closed-form two-body cases, float64 on ~7000 km
JD_ATOL_DAYS = 1e-9 / 86400  # sgp4.api.jday and datetime agree to a nanosecond

SNAPSHOT = "catalog-2024-07-05.3le"


def test_constants_are_sgp4s_wgs72():
    assert MU_KM3_S2 == wgs72.mu == 398600.8
    assert EARTH_RADIUS_KM == wgs72.radiusearthkm == 6378.135


def test_rtn_basis_hand_cases():
    # Equatorial prograde: R = x, T = y, N = z.
    b = rtn_basis([7000.0, 0.0, 0.0], [0.0, 7.5, 0.0])
    np.testing.assert_allclose(b[0], np.eye(3), atol=UNIT_ATOL)
    # Polar orbit over the y axis moving north: R = y, N = r x v = +x, T = N x R = z.
    b = rtn_basis([[0.0, 7000.0, 0.0]], [[0.0, 0.0, 7.5]])
    np.testing.assert_allclose(b[0], [[0, 1, 0], [0, 0, 1], [1, 0, 0]], atol=UNIT_ATOL)
    # A radial velocity component does not tilt T: T stays normal to R in the plane.
    b = rtn_basis([7000.0, 0.0, 0.0], [1.0, 7.5, 0.0])
    np.testing.assert_allclose(b[0], np.eye(3), atol=UNIT_ATOL)
    # Components of a vector: 1 km up, 2 km ahead, 3 km to the left of the orbit plane.
    np.testing.assert_allclose(
        rtn_components([7000.0, 0.0, 0.0], [0.0, 7.5, 0.0], [1.0, 2.0, 3.0]),
        [[1.0, 2.0, 3.0]],
        atol=UNIT_ATOL,
    )
    with pytest.raises(ValueError, match="shape"):
        rtn_basis([1.0, 2.0], [3.0, 4.0])


def test_rtn_to_inertial_cov_hand_case():
    # Polar case above: R = y, T = z, N = x. RTN variances (1, 4, 9) land on y, z, x.
    r, v = [0.0, 7000.0, 0.0], [0.0, 0.0, 7.5]
    np.testing.assert_allclose(
        rtn_to_inertial_cov(r, v, np.diag([1.0, 4.0, 9.0]))[0],
        np.diag([9.0, 1.0, 4.0]),
        atol=ROTATION_ATOL,
    )
    np.testing.assert_allclose(
        rtn_to_inertial_cov(r, v, [1.0, 4.0, 9.0])[0], np.diag([9.0, 1.0, 4.0]), atol=ROTATION_ATOL
    )
    # 6x6: both blocks rotate the same way; an R-RDOT correlation becomes y-vy.
    six = np.diag([1.0, 4.0, 9.0, 0.1, 0.2, 0.3])
    six[0, 3] = six[3, 0] = 0.05
    out = rtn_to_inertial_cov(r, v, six)[0]
    expected = np.diag([9.0, 1.0, 4.0, 0.3, 0.1, 0.2])
    expected[1, 4] = expected[4, 1] = 0.05
    np.testing.assert_allclose(out, expected, atol=ROTATION_ATOL)


def test_encounter_frame_hand_case():
    r1, v1 = np.array([7000.0, 0.0, 0.0]), np.array([0.0, 7.5, 0.0])
    v2 = np.array([0.0, 0.0, 7.5])  # v2 - v1 = (0, -7.5, 7.5)
    dr = np.array([0.3, 0.2, 0.2])  # normal to v2 - v1: all of it is miss
    f = encounter_frame(r1, v1, r1 + dr, v2)[0]
    s2 = math.sqrt(2.0)
    x = dr / math.sqrt(0.17)
    y = np.array([0.0, -1.0, 1.0]) / s2
    # z = x cross y, by hand: (0.2 + 0.2, -0.3, -0.3) / (sqrt(0.17) sqrt(2))
    z = np.array([0.4, -0.3, -0.3]) / (math.sqrt(0.17) * s2)
    np.testing.assert_allclose(f, [x, y, z], atol=UNIT_ATOL * 10)
    # A miss with a part along v2 - v1 keeps only its normal part as x.
    g = encounter_frame(r1, v1, r1 + dr + 5.0 * y, v2)[0]
    np.testing.assert_allclose(g, f, atol=ROTATION_ATOL)
    # The miss vector has coordinates (|miss|, 0) in the plane (x, z).
    np.testing.assert_allclose(f[[0, 2]] @ dr, [math.sqrt(0.17), 0.0], atol=ROTATION_ATOL)
    # No relative velocity: no plane (NaN). Zero miss: some x normal to y.
    assert np.all(np.isnan(encounter_frame(r1, v1, r1 + dr, v1)))
    h = encounter_frame(r1, v1, r1, v2)[0]
    np.testing.assert_allclose(h @ h.T, np.eye(3), atol=ROTATION_ATOL)
    np.testing.assert_allclose(h[1], y, atol=UNIT_ATOL)


@pytest.fixture(scope="module")
def sky(shared_file):
    """Three real objects (LEO debris, MEO-ish, GEO-ish) as skyfield satellites and states."""
    from skyfield.api import EarthSatellite, load

    ts = load.timescale(builtin=True)
    lines = shared_file(SNAPSHOT).read_text().splitlines()
    picks = [lines[k : k + 3] for k in (0, 3000, 30000)]
    sats = [EarthSatellite(l1, l2, name, ts) for name, l1, l2 in picks]
    t = ts.utc(2024, 7, 5, 12, 0, [0.0, 3600.5, 43210.25])
    jd = np.full(3, 2460497.0)
    fr = np.array([0.0, 3600.5, 43210.25]) / 86400.0
    return ts, t, jd, fr, sats


def test_teme_to_itrf_and_geodetic_against_skyfield(sky):
    """Against skyfield's full chain (TEME -> GCRS -> ITRS, IAU 2000, real UT1): the
    only expected difference is our UT1 = UTC, a rotation by the Earth rate x dut1."""
    from skyfield.api import wgs84
    from skyfield.framelib import itrs

    _, t, jd, fr, sats = sky
    for sat in sats:
        _, r, v = sat.model.sgp4_array(jd, fr)
        ours, _ = teme_to_itrf(r, v, jd, fr)
        ref = sat.at(t).frame_xyz(itrs).km.T
        turn = EARTH_RATE_RAD_S * np.abs(t.dut1)
        gap = np.linalg.norm(ours - ref, axis=1)
        assert np.all(gap <= np.linalg.norm(r, axis=1) * turn + ITRF_MODEL_KM), gap
        alt, lat, lon = teme_to_geodetic(r, jd, fr)
        geo = wgs84.geographic_position_of(sat.at(t))
        np.testing.assert_allclose(lat, geo.latitude.degrees, atol=GEODETIC_LAT_DEG)
        np.testing.assert_allclose(alt, geo.elevation.km, atol=GEODETIC_ALT_KM)
        dlon = (lon - geo.longitude.degrees + 180.0) % 360.0 - 180.0
        np.testing.assert_allclose(dlon, np.degrees(EARTH_RATE_RAD_S * t.dut1), atol=LON_MODEL_DEG)


def test_teme_to_itrf_velocity_against_skyfield(sky):
    """Earth-fixed velocity (the Earth's rotation removed) vs skyfield's ITRS velocity."""
    from skyfield.framelib import itrs

    _, t, jd, fr, sats = sky
    for sat in sats:
        _, r, v = sat.model.sgp4_array(jd, fr)
        _, ours = teme_to_itrf(r, v, jd, fr)
        _, ref = sat.at(t).frame_xyz_and_velocity(itrs)
        turn = EARTH_RATE_RAD_S * np.abs(t.dut1)
        gap = np.linalg.norm(ours - ref.km_per_s.T, axis=1)
        assert np.all(gap <= np.linalg.norm(v, axis=1) * turn + ITRF_MODEL_KM * 1e-3), gap


def test_teme_to_gcrf_against_skyfield_positions(sky):
    _, t, jd, fr, sats = sky
    rot = teme_to_gcrf_rotation(jd, fr)
    np.testing.assert_allclose(
        np.einsum("nij,nkj->nik", rot, rot),
        np.broadcast_to(np.eye(3), (3, 3, 3)),
        atol=ROTATION_ATOL,
    )
    for sat in sats:
        _, r, _ = sat.model.sgp4_array(jd, fr)
        gcrf = np.einsum("nij,nj->ni", rot, r)
        np.testing.assert_allclose(gcrf, sat.at(t).position.km.T, atol=GCRF_KM)


def test_osculating_apsides_closed_form():
    # Perigee 400 km, apogee 2000 km: at perigee, v = sqrt(mu (2/rp - 1/a)).
    rp, ra = EARTH_RADIUS_KM + 400.0, EARTH_RADIUS_KM + 2000.0
    a = (rp + ra) / 2
    vp = math.sqrt(MU_KM3_S2 * (2 / rp - 1 / a))
    period, apo, peri = osculating_apsides([rp, 0.0, 0.0], [0.0, 0.0, vp])
    np.testing.assert_allclose([apo[0], peri[0]], [2000.0, 400.0], atol=APSIS_ATOL_KM)
    np.testing.assert_allclose(period, 2 * math.pi * math.sqrt(a**3 / MU_KM3_S2) / 60, rtol=1e-13)
    # Escape speed and beyond: no ellipse.
    esc = math.sqrt(2 * MU_KM3_S2 / rp)
    assert np.all(np.isnan(osculating_apsides([[rp, 0, 0]], [[0, 1.01 * esc, 0]])))


def test_osculating_apsides_of_a_real_satrec_near_its_mean_elements():
    """SGP4 at epoch vs its own mean elements: osculating and mean differ by J2
    short-period terms, tens of km in LEO, never hundreds."""
    sat = Satrec.twoline2rv(
        "1 25544U 98067A   24187.41211127  .00014381  00000-0  25316-3 0  9991",
        "2 25544  51.6396 239.0584 0010308  64.5064  47.2069 15.49930314461716",
        WGS72,
    )
    _, r, v = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF)
    _, apo, peri = osculating_apsides(r, v)
    assert abs(peri[0] - sat.altp * EARTH_RADIUS_KM) < 30.0
    assert abs(apo[0] - sat.alta * EARTH_RADIUS_KM) < 30.0


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=dt.timezone.utc),
        dt.datetime(1969, 7, 20, 20, 17, 40, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 7, 5, 9, 53, 46, 236_000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    ],
)
def test_julian_dates_round_trip_against_datetime_arithmetic(when):
    from sgp4.api import jday

    jd, fr = datetime_to_jd(when)
    u = when.astimezone(dt.timezone.utc)
    assert (jd, fr) == jday(
        u.year, u.month, u.day, u.hour, u.minute, u.second + u.microsecond * 1e-6
    )
    # Independent: JD 2451545.0 is 2000-01-01 12:00 UTC (J2000, the UTC reading).
    days = (u - dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc)) / dt.timedelta(days=1)
    assert abs((jd - 2451545.0) + fr - days) < JD_ATOL_DAYS
    back = jd_to_datetime(jd, fr)
    assert abs((back - u).total_seconds()) <= 1e-6 and back.tzinfo is not None


def test_datetime64_of_julian_dates_against_datetime_arithmetic():
    utc = dt.timezone.utc
    whens = [
        dt.datetime(2024, 7, 5, 9, 53, 46, 236_000, tzinfo=utc),
        dt.datetime(2000, 1, 1, 12, tzinfo=utc),
        dt.datetime(1999, 12, 31, tzinfo=utc),
        dt.datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=utc),
    ]
    jd, fr = np.array([datetime_to_jd(w) for w in whens]).T
    got = jd_to_datetime64(jd, fr)
    assert got.dtype == np.dtype("datetime64[us]")
    for g, w in zip(got.tolist(), whens, strict=True):  # .tolist(): naive UTC datetimes
        assert abs((g.replace(tzinfo=utc) - w).total_seconds()) <= 1e-6


def test_naive_datetimes_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="timezone-aware"):
        datetime_to_jd(dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        format_utc(dt.datetime(2024, 1, 1))


def test_utc_text():
    utc = dt.timezone.utc
    assert format_utc(dt.datetime(2024, 7, 5, 9, 53, 46, 499_999, tzinfo=utc)) == (
        "2024-07-05T09:53:46Z"
    )
    assert format_utc(dt.datetime(2024, 12, 31, 23, 59, 59, 500_000, tzinfo=utc)) == (
        "2025-01-01T00:00:00Z"
    )
    # Milliseconds against datetime: JD of 2024-07-05 09:53:50.986 and a carry
    # over midnight of a leap day (59.9996 s rounds to the next day).
    cases = [
        (dt.datetime(2024, 7, 5, 9, 53, 50, 986_000, tzinfo=utc), "2024-07-05 09:53:50.986"),
        (dt.datetime(2024, 2, 29, 23, 59, 59, 999_600, tzinfo=utc), "2024-03-01 00:00:00.000"),
        (dt.datetime(1999, 12, 31, 0, 0, 0, 400, tzinfo=utc), "1999-12-31 00:00:00.000"),
    ]
    for when, text in cases:
        days = (when - dt.datetime(2000, 1, 1, 12, tzinfo=utc)) / dt.timedelta(days=1)
        whole = math.floor(days) + 0.5
        assert format_utc_ms(2451545.0 + whole, days - whole) == [text]
    assert format_utc_ms([2460496.5, 2460496.5], [0.0, 0.5]) == [
        "2024-07-05 00:00:00.000",
        "2024-07-05 12:00:00.000",
    ]
