"""Report figures and page pieces: each figure function draws what it is given.

Figures are checked through their artists (bar heights, scatter offsets,
ellipse geometry) against values computed independently here, with any
warning turned into an error.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Circle, Ellipse, Rectangle
from sgp4.api import WGS72, Satrec, jday

from ssa.geometry import EARTH_RADIUS_KM, MU_KM3_S2, osculating_apsides
from ssa.geometry import rtn_basis as _rtn_basis
from ssa.report import figures
from ssa.report.geometry import combined_covariance_km2, encounter_basis
from ssa.report.html import json_for_script

pytestmark = pytest.mark.filterwarnings("error")

# Orthonormality and projection checks are pure float64 arithmetic on unit vectors.
UNIT_TOL = 1e-12
# Ellipse vertices come from matplotlib's Bezier approximation of a circle,
# exact at the control points it keeps on the curve to ~1e-9 relative.
ELLIPSE_REL_TOL = 1e-6
# Osculating vs SGP4 mean altitude differ by J2 short-period terms, ~10 km in LEO.
OSC_VS_MEAN_KM = 25.0


def rtn_basis(r_km, v_kms):
    """(3, 3) rows R, T, N of one state."""
    return _rtn_basis(r_km, v_kms)[0]


def _bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


@pytest.fixture(scope="module")
def real_states(shared_file):
    """TEME states (km, km/s) of the first 40 catalog objects at one epoch, with names."""
    lines = shared_file("catalog-2024-07-05.3le").read_text().splitlines()[: 3 * 40]
    jd, fr = jday(2024, 7, 5, 12, 0, 0)
    out = []
    for i in range(0, len(lines), 3):
        sat = Satrec.twoline2rv(lines[i + 1], lines[i + 2], WGS72)
        err, r, v = sat.sgp4(jd, fr)
        if err == 0:
            out.append((lines[i][2:], sat, np.array(r), np.array(v)))
    return out


def test_geometry_frames_are_orthonormal_and_aligned(real_states):
    (_, _, r1, v1), (_, _, r2, v2) = real_states[0], real_states[1]
    rtn = rtn_basis(r1, v1)
    np.testing.assert_allclose(rtn @ rtn.T, np.eye(3), atol=UNIT_TOL)
    np.testing.assert_allclose(rtn[0], r1 / np.linalg.norm(r1), atol=UNIT_TOL)
    assert rtn[1] @ v1 > 0  # T is the along-track side of the velocity
    enc = encounter_basis(r1, v1, r2, v2)
    np.testing.assert_allclose(enc @ enc.T, np.eye(3), atol=UNIT_TOL)
    np.testing.assert_allclose(np.linalg.det(enc), 1.0, atol=UNIT_TOL)
    np.testing.assert_allclose(enc[2], (v2 - v1) / np.linalg.norm(v2 - v1), atol=UNIT_TOL)
    assert enc[1] @ rtn[0] > 0  # plot "up" leans towards object 1's radial direction


def test_rtn_covariance_puts_variance_on_the_right_axis(real_states):
    _, _, r, v = real_states[0]
    rtn = rtn_basis(r, v)
    cov = combined_covariance_km2(r, v, [100.0, 0.0, 0.0], r, v, [0.0, 200.0, 0.0])
    expected = (0.1**2) * np.outer(rtn[0], rtn[0]) + (0.2**2) * np.outer(rtn[1], rtn[1])
    np.testing.assert_allclose(cov, expected, atol=1e-15)
    assert combined_covariance_km2(r, v, [np.nan, 1, 1], r, v, [1, 1, 1]) is None


def test_osculating_apsides_circular_and_real(real_states):
    r_km = 7000.0
    period, apo, peri = osculating_apsides([[r_km, 0, 0]], [[0, np.sqrt(MU_KM3_S2 / r_km), 0]])
    np.testing.assert_allclose(apo, r_km - EARTH_RADIUS_KM, atol=1e-9)
    np.testing.assert_allclose(peri, r_km - EARTH_RADIUS_KM, atol=1e-9)
    np.testing.assert_allclose(period, 2 * np.pi * np.sqrt(r_km**3 / MU_KM3_S2) / 60, rtol=1e-12)
    for _, sat, r, v in real_states[:10]:
        _, apo, peri = osculating_apsides(r, v)
        assert abs(apo[0] - (sat.alta * sat.radiusearthkm)) < OSC_VS_MEAN_KM + 2 * sat.ecco * 7000
        assert abs(peri[0] - (sat.altp * sat.radiusearthkm)) < OSC_VS_MEAN_KM + 2 * sat.ecco * 7000


def test_conjunctions_per_day_counts_each_day_including_empty_ones():
    tca = np.array(
        ["2024-07-05T01:00", "2024-07-05T23:59:59.999", "2024-07-07T00:00"], dtype="datetime64[ms]"
    )
    fig = figures.conjunctions_per_day(
        tca, np.datetime64("2024-07-05"), np.datetime64("2024-07-09T00:00")
    )
    ax = fig.axes[0]
    # window 5th..8th (end at midnight excludes the 9th): 2, 0, 1, 0
    assert [b.get_height() for b in _bars(ax)] == [2, 0, 1, 0]
    assert "UTC" in ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["07-05", "07-06", "07-07", "07-08"]
    empty = figures.conjunctions_per_day(np.array([], dtype="datetime64[ms]"))
    assert any("no conjunctions" in t.get_text() for t in empty.axes[0].texts)


def test_miss_vs_speed_without_and_with_pc():
    miss = np.array([0.5, 1.0, 4.0, 2.0])
    speed = np.array([14.0, 7.5, 0.3, 11.0])
    cats = np.array(["DEBRIS - PAYLOAD", "DEBRIS - DEBRIS", "DEBRIS - DEBRIS", "PAYLOAD - PAYLOAD"])
    fig = figures.miss_vs_speed(miss, speed, category=cats, threshold_km=5.0)
    ax = fig.axes[0]
    cols = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(cols) == 3  # one per category, largest first
    assert len(cols[0].get_offsets()) == 2
    got = np.concatenate([c.get_offsets() for c in cols])
    assert sorted(map(tuple, got)) == sorted(zip(speed, miss, strict=True))
    assert any(np.allclose(line.get_ydata(), 5.0) for line in ax.lines)  # threshold
    assert "km/s" in ax.get_xlabel() and "km" in ax.get_ylabel()

    pc = np.array([1e-4, np.nan, 0.0, 3e-7])
    fig = figures.miss_vs_speed(miss, speed, pc=pc, threshold_km=5.0)
    ax = fig.axes[0]
    colour = [c for c in ax.collections if c.get_array() is not None]
    assert len(colour) == 1
    np.testing.assert_allclose(sorted(colour[0].get_array()), sorted(np.log10([1e-4, 3e-7])))
    assert len(fig.axes) == 2 and "Pc" in fig.axes[1].get_ylabel()  # colour bar
    np.testing.assert_allclose(colour[0].get_clim(), (np.log10(3e-7), -4.0))
    # Pc spanning 1e-250..1e-4: the scale stops at the floor.
    pc = np.array([1e-4, 1e-250, 1e-30, 1e-12])
    ax = figures.miss_vs_speed(miss, speed, pc=pc).axes[0]
    assert [c for c in ax.collections if c.get_array() is not None][0].get_clim() == (
        figures.PC_FLOOR_LOG10,
        -4.0,
    )
    # Every Pc tiny: the top decades keep their spread instead of one flat colour.
    pc = np.array([1e-45, 1e-250, 1e-47, 1e-60])
    ax = figures.miss_vs_speed(miss, speed, pc=pc).axes[0]
    np.testing.assert_allclose(
        [c for c in ax.collections if c.get_array() is not None][0].get_clim(), (-55.0, -45.0)
    )


def test_type_pair_and_owner_counts():
    t1 = np.array(["PAYLOAD", "DEBRIS", "DEBRIS", "ROCKET BODY", "PAYLOAD", ""])
    t2 = np.array(["DEBRIS", "PAYLOAD", "DEBRIS", "PAYLOAD", "PAYLOAD", "DEBRIS"])
    o1 = np.array(["US", "PRC", "CIS", "CIS", "US", ""])
    o2 = np.array(["PRC", "US", "US", "", "ESA", "FR"])
    ax = figures.type_pair_counts(t1, t2).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    heights = [b.get_width() for b in _bars(ax)]
    assert dict(zip(labels, heights, strict=True)) == {
        "DEBRIS - PAYLOAD": 2,
        "DEBRIS - DEBRIS": 1,
        "PAYLOAD - ROCKET BODY": 1,
        "PAYLOAD - PAYLOAD": 1,
        "DEBRIS - UNKNOWN": 1,
    }
    assert labels[0] == "DEBRIS - PAYLOAD"  # largest first
    ax = figures.payload_owner_counts(t1, o1, t2, o2).axes[0]
    got = dict(
        zip(
            [t.get_text() for t in ax.get_yticklabels()],
            [b.get_width() for b in _bars(ax)],
            strict=True,
        )
    )
    # the US-ESA payload pair counts once for each owner; '' owner shows as 'unknown'
    assert got == {"US": 3, "ESA": 1, "unknown": 1}
    ax = figures.payload_owner_counts(t1, o1, t2, o2, top=1).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["US", "others"]


def test_altitude_band_counts():
    alt = np.array([401.0, 449.9, 450.0, 820.0, np.nan, 20_180.0, 35_786.0, 35_790.0])
    ax = figures.altitude_band_counts(alt, band_km=50.0).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    got = dict(zip(labels, [b.get_width() for b in _bars(ax)], strict=True))
    assert labels[0] == "400\u2013450" and labels[-1] == "35000\u201336600"  # low at bottom
    assert got["400\u2013450"] == 2 and got["450\u2013500"] == 1 and got["800\u2013850"] == 1
    assert got["500\u2013550"] == 0  # empty LEO bands stay visible
    assert got["15000\u201330000"] == 1 and got["35000\u201336600"] == 2
    assert "2000\u201315000" not in got  # empty high bands are left out
    assert sum(got.values()) == 7
    assert "km" in ax.get_ylabel()


def test_range_vs_time_from_real_propagation(real_states):
    (_, s1, _, _), (_, s2, _, _) = real_states[2], real_states[3]
    jd, fr = jday(2024, 7, 5, 12, 0, 0)
    t_s = np.arange(-300.0, 301.0, 10.0)
    _, r1, _ = s1.sgp4_array(np.full(t_s.shape, jd), fr + t_s / 86400)
    _, r2, _ = s2.sgp4_array(np.full(t_s.shape, jd), fr + t_s / 86400)
    rng = np.linalg.norm(r2 - r1, axis=1)
    ax = figures.range_vs_time(t_s, rng, threshold_km=5.0).axes[0]
    curve = ax.lines[0]
    np.testing.assert_array_equal(curve.get_xdata(), t_s)
    np.testing.assert_array_equal(curve.get_ydata(), rng)
    assert ax.get_yscale() == "log"
    assert any(np.allclose(line.get_ydata(), 5.0) for line in ax.lines[1:])
    assert ax.get_xlabel() == "time from TCA (s)" and ax.get_ylabel() == "range (km)"


def test_encounter_plane_ellipses_and_hard_body(real_states):
    (_, _, r1, v1), (_, _, r2, v2) = real_states[4], real_states[5]
    # Put object 2 600 m from object 1 along a direction with an out-of-plane part.
    r2 = r1 + np.array([0.3, -0.4, 0.35])
    sig1, sig2 = [80.0, 400.0, 60.0], [150.0, 900.0, 120.0]
    cov = combined_covariance_km2(r1, v1, sig1, r2, v2, sig2)
    fig = figures.encounter_plane(r1, v1, r2, v2, cov_km2=cov, hbr_m=20.0)
    ax = fig.axes[0]
    ellipses = [p for p in ax.patches if type(p) is Ellipse]  # Circle subclasses Ellipse
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(ellipses) == 3 and len(circles) == 1
    basis = encounter_basis(r1, v1, r2, v2)
    miss_m = basis[:2] @ (r2 - r1) * 1000
    # Independent: miss in the plane = full separation minus its part along v_rel.
    z = (v2 - v1) / np.linalg.norm(v2 - v1)
    dr = (r2 - r1) - ((r2 - r1) @ z) * z
    np.testing.assert_allclose(np.hypot(*miss_m), np.linalg.norm(dr) * 1000, rtol=1e-12)
    np.testing.assert_allclose(circles[0].center, miss_m, rtol=1e-12)
    assert circles[0].radius == 20.0
    (inset,) = ax.child_axes  # 20 m would be a dot on this scale: zoomed inset
    assert [p.radius for p in inset.patches] == [20.0]
    # Every vertex of the k-sigma ellipse has Mahalanobis distance k under the
    # projected covariance.
    proj_inv = np.linalg.inv(basis[:2] @ cov @ basis[:2].T * 1e6)
    for k, ell in zip((1, 2, 3), ellipses, strict=True):
        verts = ell.get_patch_transform().transform(ell.get_path().vertices[::3][:-1])
        d2 = np.einsum("ij,jk,ik->i", verts, proj_inv, verts)
        np.testing.assert_allclose(np.sqrt(d2), k, rtol=ELLIPSE_REL_TOL)
    assert "(m" in ax.get_xlabel() and "(m" in ax.get_ylabel()

    bare = figures.encounter_plane(r1, v1, r2, v2).axes[0]
    assert not [p for p in bare.patches if isinstance(p, (Ellipse, Circle))]
    assert any("no covariance" in t.get_text() for t in bare.texts)


def test_rtn_relative_three_views():
    track = np.column_stack(
        [np.linspace(0.1, 0.2, 5), np.linspace(-8, 8, 5), np.linspace(3, -3, 5)]
    )
    fig = figures.rtn_relative(np.array([0.15, 0.0, 0.0]), track)
    assert len(fig.axes) == 3
    ax = fig.axes[0]  # T horizontal, R vertical
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), track[:, 1])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), track[:, 0])
    assert [a.get_xlabel() for a in fig.axes] == [
        "in-track T (km)",
        "in-track T (km)",
        "cross-track N (km)",
    ]
    assert len(figures.rtn_relative([0.1, 0.2, 0.3]).axes[0].lines) == 2  # no track


def test_gabbard_separates_types(real_states):
    r = np.array([s[2] for s in real_states])
    v = np.array([s[3] for s in real_states])
    period, apo, peri = osculating_apsides(r, v)
    types = np.array(["DEBRIS" if "DEB" in s[0] else "PAYLOAD" for s in real_states], dtype=object)
    types[0] = "ROCKET BODY"
    ax = figures.gabbard(period, apo, peri, types).axes[0]
    cols = [c for c in ax.collections if isinstance(c, PathCollection)]
    kinds = {t for t in types}
    assert len(cols) == 2 * len(kinds)  # apogee and perigee per type
    payload_apogees = next(c for c in cols if c.get_label().startswith("payload apogee"))
    np.testing.assert_allclose(
        sorted(payload_apogees.get_offsets()[:, 1]), sorted(apo[types == "PAYLOAD"])
    )
    rocket = next(c for c in cols if c.get_label().startswith("rocket body apogee"))
    np.testing.assert_allclose(rocket.get_offsets()[:, 1], apo[:1])
    labels = ax.get_legend_handles_labels()[1]
    assert any("debris" in t for t in labels) or "DEBRIS" not in kinds
    assert ax.get_xlabel() == "orbital period (min)" and ax.get_ylabel() == "altitude (km)"
    assert ax.get_xscale() == ("log" if np.nanmax(apo) > figures.GABBARD_LOG_ABOVE_KM else "linear")


def test_png_is_deterministic(tmp_path):
    miss = np.linspace(0.1, 5, 50)
    a = tmp_path / "a.png"
    b = tmp_path / "b.png"
    figures.save_png(figures.miss_vs_speed(miss, miss[::-1] * 3, threshold_km=5.0), a)
    figures.save_png(figures.miss_vs_speed(miss, miss[::-1] * 3, threshold_km=5.0), b)
    assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert a.read_bytes() == b.read_bytes()


def test_json_for_script_cannot_close_the_script_element():
    text = json_for_script({"name": "</script><script>alert(1)</script>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    import json

    assert json.loads(text)["name"] == "</script><script>alert(1)</script>&"


def test_empty_inputs_draw_a_note_without_warnings():
    none = np.array([], dtype=float)
    strs = np.array([], dtype=object)
    figs = [
        figures.conjunctions_per_day(np.array([], dtype="datetime64[ms]")),
        figures.miss_vs_speed(none, none, threshold_km=5.0),
        figures.type_pair_counts(strs, strs),
        figures.payload_owner_counts(strs, strs, strs, strs),
        figures.altitude_band_counts(none),
        figures.gabbard(none, none, none, strs),
        figures.range_vs_time(none, none, threshold_km=5.0),
    ]
    for fig in figs:
        figures.save_png(fig, io.BytesIO())  # drawing must not warn either
        assert any(t.get_text() for t in fig.axes[0].texts), fig.axes[0].get_title()


def test_render_page_escapes_every_input_value():
    from html.parser import HTMLParser

    from ssa.report.html import EventSection, FigureRef, Page, TableData, render_page

    evil = '"><script>window.x=1</script><img src=x onerror=alert(1)>'
    png = io.BytesIO()
    figures.save_png(figures.altitude_band_counts(np.array([500.0])), png)
    fig = FigureRef(png=png.getvalue(), filename="a.png", alt=f"alt {evil}", caption=evil)
    page = Page(
        title=f"report {evil}",
        run_facts=[("Catalog", evil), (evil, "value")],
        overview=[fig],
        table=TableData(
            keys=["name", "miss_km"],
            labels=["Name", evil],
            numeric=[False, True],
            formats=[None, 3],
            rows=[[evil, 1.5], [evil, None]],
        ),
        events=[
            EventSection(
                rank=1, title=evil, facts=[("Object 1", evil)], figures=[fig], notes=[evil]
            )
        ],
        problems=[f"file.csv:3: {evil}"],
        ranking_note=evil,
    )
    text = render_page(page)

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.scripts, self.imgs, self.data = 0, [], []

        def handle_starttag(self, tag, attrs):
            self.scripts += tag == "script"
            if tag == "img":
                self.imgs.append(dict(attrs))

        def handle_data(self, data):
            self.data.append(data)

    parser = Tags()
    parser.feed(text)
    assert parser.scripts == 2  # the data block and the page script, nothing injected
    assert len(parser.imgs) == 2 and all(
        i["src"].startswith("data:image/png;base64,") for i in parser.imgs
    )
    assert all(i["alt"] == f"alt {evil}" for i in parser.imgs)  # attribute kept whole
    # The hostile text survives as text in title, facts, table, event and problems.
    assert sum(evil in d for d in parser.data) >= 8
    assert "1.500" in text and "\u2013" in text  # number format and missing value


def test_approach_matches_direct_sgp4(real_states):
    from ssa.report.events import approach

    (_, s1, _, _), (_, s2, _, _) = real_states[6], real_states[7]
    jd, fr = jday(2024, 7, 5, 12, 0, 0)
    _, r1, v1 = s1.sgp4(jd, fr)
    _, r2, v2 = s2.sgp4(jd, fr)
    ap = approach(s1, s2, jd, fr, [*r1, *v1], [*r2, *v2])
    assert ap.state_mismatch_km == 0.0  # same element sets, same instant
    i0 = int(np.flatnonzero(ap.t_s == 0.0)[0])
    dr = np.subtract(r2, r1)
    np.testing.assert_allclose(ap.range_km[i0], np.linalg.norm(dr), rtol=1e-12)
    np.testing.assert_allclose(ap.rtn_km[i0], rtn_basis(r1, v1) @ dr, atol=1e-9)
    k = int(np.flatnonzero(ap.t_s == 120.0)[0])  # a later step, against sgp4 directly
    _, a, _ = s1.sgp4(jd, fr + 120.0 / 86400)
    _, b, _ = s2.sgp4(jd, fr + 120.0 / 86400)
    np.testing.assert_allclose(ap.range_km[k], np.linalg.norm(np.subtract(b, a)), rtol=1e-9)
    assert np.all(np.diff(ap.t_s) > 0) and ap.t_s[0] == -300.0 and ap.t_s[-1] == 300.0
