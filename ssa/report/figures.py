"""Figures of a close-approach report: pure functions from arrays to Figures.

Every function takes plain numpy arrays (units in the argument names) and
returns a ``matplotlib.figure.Figure`` drawn without pyplot, so no global
state, no GUI backend and no figure leaks; ``save_png`` renders with Agg.
Colours come from the Okabe-Ito palette (distinguishable with the common
colour-vision deficiencies), and categories also differ by marker so the
figures survive greyscale printing.
"""

from __future__ import annotations

from collections import Counter

import matplotlib

matplotlib.use("Agg")  # report generation is headless; harmless if already Agg

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, Ellipse  # noqa: E402

from ssa.report.geometry import encounter_basis  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}
TYPE_STYLE = {  # object type -> (colour, marker)
    "PAYLOAD": (OKABE_ITO["blue"], "o"),
    "ROCKET BODY": (OKABE_ITO["orange"], "s"),
    "DEBRIS": (OKABE_ITO["vermillion"], "D"),
    "UNKNOWN": (OKABE_ITO["grey"], "x"),
}
CATEGORY_COLOURS = [
    OKABE_ITO[k]
    for k in ("blue", "vermillion", "orange", "green", "purple", "sky_blue", "black", "yellow")
]
PC_CMAP = "viridis"  # perceptually uniform and colour-blind safe
# Colour scale floor: Pc below 1e-10 is negligible for any operator and would
# otherwise stretch the scale over hundreds of decades (TLE-based Pc can be 1e-250).
PC_FLOOR_LOG10 = -10.0
PC_SPAN_DECADES = 10.0
SIGMA_LEVELS = (1, 2, 3)
# Altitude bands: fine in LEO where conjunctions concentrate, wide above
# (MEO, the GNSS shells near 20,000 km, the GEO belt near 35,786 km).
LEO_TOP_KM = 2000.0
GABBARD_LOG_ABOVE_KM = 5000.0  # apogee beyond which the Gabbard axes turn logarithmic
HIGH_BANDS_KM = (2000.0, 15000.0, 30000.0, 35000.0, 36600.0, np.inf)
# Below this fraction of the plotted half-width the hard-body circle gets an inset.
HBR_INSET_FRACTION = 0.02
FIGSIZE_IN = (6.4, 4.0)
DPI = 100


def _figure(figsize=FIGSIZE_IN) -> Figure:
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _empty_note(ax, text="no conjunctions") -> None:
    ax.text(
        0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=OKABE_ITO["grey"]
    )


def save_png(fig: Figure, path) -> None:
    """Write ``fig`` as a PNG without a time stamp (same input -> same bytes)."""
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def type_label(object_type: str) -> str:
    """Return the display name of an object type ('' -> 'UNKNOWN')."""
    value = (object_type or "").strip().upper()
    return value if value in TYPE_STYLE else "UNKNOWN"


def type_pair_labels(type1, type2) -> np.ndarray:
    """Return an order-free pair label per conjunction, e.g. 'DEBRIS - PAYLOAD'."""
    return np.array(
        [
            " - ".join(sorted((type_label(a), type_label(b))))
            for a, b in zip(type1, type2, strict=True)
        ],
        dtype=object,
    )


def conjunctions_per_day(tca_utc, start_utc=None, end_utc=None) -> Figure:
    """Return a bar chart of conjunctions per UTC day.

    tca_utc: datetime64 array (UTC) of times of closest approach; NaT ignored.
    start_utc, end_utc: optional datetime64 screening window, so days without
    conjunctions still show as zero bars.
    """
    tca = np.asarray(tca_utc, dtype="datetime64[ms]")
    tca = tca[~np.isnat(tca)]
    fig = _figure()
    ax = fig.add_subplot()
    days = tca.astype("datetime64[D]")
    lo = [
        d
        for d in (
            days.min() if days.size else None,
            None if start_utc is None else np.datetime64(start_utc, "D"),
        )
        if d is not None
    ]
    hi_candidates = [days.max() if days.size else None]
    if end_utc is not None:
        end = np.datetime64(end_utc, "ms")
        # A window ending exactly at midnight does not include that day.
        hi_candidates.append((end - np.timedelta64(1, "ms")).astype("datetime64[D]"))
    hi = [d for d in hi_candidates if d is not None]
    if lo and hi:
        day_list = np.arange(min(lo), max(hi) + np.timedelta64(1, "D"))
        counts = np.array([(days == d).sum() for d in day_list])
        x = np.arange(len(day_list))
        bars = ax.bar(x, counts, width=0.8, color=OKABE_ITO["blue"], label="conjunctions")
        if len(day_list) <= 16:
            ax.bar_label(bars, padding=2, fontsize="small")
        step = max(1, int(np.ceil(len(day_list) / 8)))  # at most ~8 date labels
        ax.set_xticks(x[::step], labels=[str(d)[5:] for d in day_list[::step]])
        ax.margins(y=0.1)
    if not tca.size:
        _empty_note(ax)
    ax.set_xlabel(
        "TCA date (UTC, MM-DD)"
        if not (lo and hi)
        else f"TCA date (UTC, MM-DD, year {str(day_list[0])[:4]})"
    )
    ax.set_ylabel("conjunctions per day")
    ax.set_title("Conjunctions per day")
    ax.grid(axis="y", alpha=0.3)
    return fig


def miss_vs_speed(miss_km, speed_kms, pc=None, category=None, threshold_km=None) -> Figure:
    """Return a scatter of miss distance (km) against relative speed (km/s).

    With any positive ``pc`` the points are coloured by log10(Pc) (points
    without a positive Pc in grey); otherwise by ``category`` (e.g. the
    object-type pair) when given. ``threshold_km`` draws the screening limit.
    """
    miss = np.asarray(miss_km, dtype=float)
    speed = np.asarray(speed_kms, dtype=float)
    fig = _figure()
    ax = fig.add_subplot()
    pc_arr = None if pc is None else np.asarray(pc, dtype=float)
    has_pc = pc_arr is not None and np.any(pc_arr > 0)
    if has_pc:
        pos = pc_arr > 0
        if np.any(~pos):
            ax.scatter(
                speed[~pos],
                miss[~pos],
                s=8,
                c=OKABE_ITO["grey"],
                marker=".",
                label="Pc 0 or not assessed",
                rasterized=True,
            )
        order = np.argsort(pc_arr[pos], kind="stable")  # highest Pc drawn on top
        log_pc = np.log10(pc_arr[pos][order])
        vmax = float(log_pc.max())
        # Down to the floor; when every Pc is below it, the top PC_SPAN_DECADES
        # so their spread still shows.
        lower = PC_FLOOR_LOG10 if vmax > PC_FLOOR_LOG10 + 1.0 else vmax - PC_SPAN_DECADES
        vmin = min(max(float(log_pc.min()), lower), vmax - 1.0)
        sc = ax.scatter(
            speed[pos][order],
            miss[pos][order],
            s=12,
            c=log_pc,
            cmap=PC_CMAP,
            vmin=vmin,
            vmax=vmax,
            rasterized=True,
            label="coloured by Pc",
        )
        fig.colorbar(
            sc, ax=ax, label="log10 Pc", extend="min" if log_pc.min() < vmin else "neither"
        )
    elif category is not None and len(miss):
        cats = np.asarray(category, dtype=object)
        ranked = [c for c, _ in sorted(Counter(cats).items(), key=lambda kv: (-kv[1], kv[0]))]
        for i, cat in enumerate(ranked):
            m = cats == cat
            colour = (
                CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
                if i < len(CATEGORY_COLOURS)
                else OKABE_ITO["grey"]
            )
            ax.scatter(
                speed[m], miss[m], s=10, color=colour, label=f"{cat} ({m.sum()})", rasterized=True
            )
    else:
        ax.scatter(speed, miss, s=10, color=OKABE_ITO["blue"], label="conjunction", rasterized=True)
    if threshold_km is not None and np.isfinite(threshold_km):
        ax.axhline(
            threshold_km,
            color=OKABE_ITO["black"],
            ls="--",
            lw=1,
            label=f"threshold {threshold_km:g} km",
        )
    if not miss.size:
        _empty_note(ax)
    ax.set_xlabel("relative speed at TCA (km/s)")
    ax.set_ylabel("miss distance (km)")
    ax.set_title("Miss distance vs relative speed")
    ax.grid(alpha=0.3)
    # Outside the axes: never hides points ('best' is also slow for 60k points).
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="x-small", markerscale=1.5)
    return fig


def _barh(ax, labels, counts, colour) -> None:
    y = np.arange(len(labels))
    bars = ax.barh(y, counts, color=colour)
    ax.set_yticks(y, labels=labels)
    ax.invert_yaxis()  # largest first, read top to bottom
    ax.bar_label(bars, padding=2, fontsize="small")
    ax.margins(x=0.12)
    ax.grid(axis="x", alpha=0.3)


def type_pair_counts(type1, type2) -> Figure:
    """Return a horizontal bar chart of conjunctions per object-type pair."""
    counts = Counter(type_pair_labels(type1, type2))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    fig = _figure()
    ax = fig.add_subplot()
    _barh(ax, [k for k, _ in ranked], [v for _, v in ranked], OKABE_ITO["blue"])
    if not ranked:
        _empty_note(ax)
    ax.set_xlabel("conjunctions")
    ax.set_ylabel("object-type pair")
    ax.set_title("Conjunctions by object-type pair")
    return fig


def payload_owner_counts(type1, owner1, type2, owner2, top=12) -> Figure:
    """Return a bar chart of conjunctions involving a payload, by payload owner.

    A conjunction counts once for each distinct owner of a payload in it; the
    owners after the first ``top`` are summed as 'others'. Empty owner codes
    show as 'unknown'.
    """
    counts: Counter = Counter()
    for t1, o1, t2, o2 in zip(type1, owner1, type2, owner2, strict=True):
        owners = {(o or "unknown") for t, o in ((t1, o1), (t2, o2)) if type_label(t) == "PAYLOAD"}
        counts.update(owners)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) > top:
        ranked = ranked[:top] + [("others", sum(v for _, v in ranked[top:]))]
    fig = _figure()
    ax = fig.add_subplot()
    _barh(ax, [k for k, _ in ranked], [v for _, v in ranked], OKABE_ITO["green"])
    if not ranked:
        _empty_note(ax, "no conjunction involves a payload")
    ax.set_xlabel("conjunctions involving a payload of this owner")
    ax.set_ylabel("payload owner (SATCAT code)")
    ax.set_title("Conjunctions by payload owner")
    return fig


def altitude_bands(alt_km, band_km=50.0):
    """Return (labels, counts) of conjunctions per altitude band, lowest first.

    Below LEO_TOP_KM the bands are ``band_km`` wide (from the lowest to the
    highest occupied band, empty ones included); above it the sparse MEO/GEO
    conjunctions fall in the wide HIGH_BANDS_KM bands, shown only when occupied.
    """
    alt = np.asarray(alt_km, dtype=float)
    alt = alt[np.isfinite(alt)]
    labels, counts = [], []
    low = alt[alt < LEO_TOP_KM]
    if low.size:
        lo = np.floor(low.min() / band_km) * band_km
        hi = min(np.floor(low.max() / band_km) * band_km + band_km, LEO_TOP_KM)
        edges = np.arange(lo, hi + band_km / 2, band_km)
        n, _ = np.histogram(low, bins=edges)
        labels += [f"{a:.0f}\u2013{b:.0f}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
        counts += n.tolist()
    for a, b in zip(HIGH_BANDS_KM[:-1], HIGH_BANDS_KM[1:], strict=True):
        k = int(np.count_nonzero((alt >= a) & (alt < b)))
        if k:
            labels.append(f"\u2265{a:.0f}" if np.isinf(b) else f"{a:.0f}\u2013{b:.0f}")
            counts.append(k)
    return labels, counts


def altitude_band_counts(alt_km, band_km=50.0) -> Figure:
    """Return a horizontal bar chart of conjunctions per altitude band (km)."""
    labels, counts = altitude_bands(alt_km, band_km)
    fig = _figure(figsize=(FIGSIZE_IN[0], max(FIGSIZE_IN[1], 1.2 + 0.14 * len(labels))))
    ax = fig.add_subplot()
    if labels:
        y = np.arange(len(labels))
        ax.barh(y, counts, height=0.85, color=OKABE_ITO["orange"])
        ax.set_yticks(y, labels=labels, fontsize="x-small" if len(labels) > 20 else "small")
        ax.set_ylim(-0.6, len(labels) - 0.4)  # lowest altitude at the bottom
    else:
        _empty_note(ax)
    ax.set_xlabel("conjunctions")
    ax.set_ylabel(
        f"altitude of object 1 at TCA (km; {band_km:g} km bands below {LEO_TOP_KM:.0f} km)"
    )
    ax.set_title("Conjunctions by altitude band")
    ax.grid(axis="x", alpha=0.3)
    return fig


def range_vs_time(t_s, range_km, threshold_km=None, tca_s=0.0) -> Figure:
    """Return the range between the two objects around TCA.

    t_s: seconds relative to TCA, shape (n,); range_km: shape (n,) (NaN where
    propagation failed); the y axis is logarithmic so the approach and the
    threshold are both visible.
    """
    t = np.asarray(t_s, dtype=float)
    rng = np.asarray(range_km, dtype=float)
    fig = _figure()
    ax = fig.add_subplot()
    ok = np.isfinite(rng) & (rng > 0)
    ax.plot(t[ok], rng[ok], color=OKABE_ITO["blue"], lw=1.5, label="range (SGP4)")
    if ok.any():
        i = np.nanargmin(np.where(ok, rng, np.nan))
        ax.plot(
            [t[i]],
            [rng[i]],
            marker="o",
            ls="none",
            color=OKABE_ITO["vermillion"],
            label=f"minimum {rng[i]:.3f} km",
        )
    else:
        _empty_note(ax, "propagation failed")
    if threshold_km is not None and np.isfinite(threshold_km):
        ax.axhline(
            threshold_km,
            color=OKABE_ITO["black"],
            ls="--",
            lw=1,
            label=f"threshold {threshold_km:g} km",
        )
    ax.axvline(tca_s, color=OKABE_ITO["grey"], ls=":", lw=1, label="TCA")
    ax.set_yscale("log")
    ax.set_xlabel("time from TCA (s)")
    ax.set_ylabel("range (km)")
    ax.set_title("Range around TCA")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize="small", framealpha=0.9)
    return fig


def encounter_plane(r1_km, v1_kms, r2_km, v2_kms, cov_km2=None, hbr_m=None) -> Figure:
    """Return the encounter-plane (B-plane) view of one conjunction, in metres.

    Object 1 sits at the origin; object 2 at the miss vector (r2 - r1) projected
    on the plane perpendicular to the relative velocity (the plane of
    ``ssa.geometry.encounter_frame``, oriented by ``ssa.report.geometry.encounter_basis``:
    object 1's radial direction up). ``cov_km2`` (3, 3), the combined inertial
    position covariance, adds its 1/2/3-sigma ellipses around object 1;
    ``hbr_m`` adds the hard-body circle around object 2. Either may be None.
    """
    r1, v1, r2, v2 = (np.asarray(x, dtype=float) for x in (r1_km, v1_kms, r2_km, v2_kms))
    basis = encounter_basis(r1, v1, r2, v2)
    miss_m = (basis[:2] @ (r2 - r1)) * 1000.0
    fig = _figure(figsize=(5.6, 5.0))
    ax = fig.add_subplot()
    extent = float(np.hypot(*miss_m))
    if cov_km2 is not None:
        cov_m2 = basis[:2] @ np.asarray(cov_km2, dtype=float) @ basis[:2].T * 1e6
        eigval, eigvec = np.linalg.eigh(cov_m2)
        eigval = np.clip(eigval, 0.0, None)
        angle_deg = float(np.degrees(np.arctan2(eigvec[1, 1], eigvec[0, 1])))
        styles = {1: "-", 2: "--", 3: ":"}
        for k in SIGMA_LEVELS:
            # k-sigma contour of a 2-D Gaussian: semi-axes k * sqrt(eigenvalue).
            ax.add_patch(
                Ellipse(
                    (0.0, 0.0),
                    2 * k * np.sqrt(eigval[1]),
                    2 * k * np.sqrt(eigval[0]),
                    angle=angle_deg,
                    fill=False,
                    ls=styles[k],
                    color=OKABE_ITO["blue"],
                    lw=1.3,
                    label=f"combined covariance {k}\u03c3",
                )
            )
        extent = max(extent, 3.2 * float(np.sqrt(eigval[1])))
    ax.plot(
        [0.0],
        [0.0],
        marker="+",
        ms=12,
        mew=2,
        ls="none",
        color=OKABE_ITO["black"],
        label="object 1",
    )
    ax.plot(
        [miss_m[0]],
        [miss_m[1]],
        marker="x",
        ms=9,
        mew=2,
        ls="none",
        color=OKABE_ITO["vermillion"],
        label=f"object 2 (miss {np.hypot(*miss_m):,.0f} m)",
    )
    if hbr_m is not None and np.isfinite(hbr_m) and hbr_m > 0:
        ax.add_patch(
            Circle(
                tuple(miss_m),
                hbr_m,
                fill=True,
                alpha=0.35,
                color=OKABE_ITO["vermillion"],
                label=f"hard-body radius {hbr_m:g} m",
            )
        )
        extent = max(extent, float(np.hypot(*miss_m)) + hbr_m)
    extent = 1.15 * max(extent, 1.0)
    if hbr_m is not None and np.isfinite(hbr_m) and 0 < hbr_m < HBR_INSET_FRACTION * extent:
        # The hard-body circle would be a dot at this scale: zoom on it in an inset.
        inset = ax.inset_axes([0.68, 0.05, 0.28, 0.28])
        inset.add_patch(
            Circle(tuple(miss_m), hbr_m, fill=True, alpha=0.35, color=OKABE_ITO["vermillion"])
        )
        inset.plot(
            [miss_m[0]],
            [miss_m[1]],
            marker="x",
            ms=6,
            mew=1.5,
            ls="none",
            color=OKABE_ITO["vermillion"],
        )
        half = 2.0 * hbr_m
        inset.set_xlim(miss_m[0] - half, miss_m[0] + half)
        inset.set_ylim(miss_m[1] - half, miss_m[1] + half)
        inset.set_aspect("equal")
        inset.tick_params(labelsize="xx-small")
        inset.set_title(f"object 2, \u00b1{half:g} m", fontsize="xx-small")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel("encounter-plane x (m, horizontal)")
    ax.set_ylabel("encounter-plane y (m, towards object 1 radial)")
    ax.set_title("Encounter plane (perpendicular to relative velocity)")
    if cov_km2 is None:
        ax.text(
            0.02,
            0.98,
            "no covariance: ellipse not drawn",
            va="top",
            transform=ax.transAxes,
            fontsize="small",
            color=OKABE_ITO["grey"],
        )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    return fig


def rtn_relative(rtn_tca_km, rtn_track_km=None) -> Figure:
    """Return object 2's position relative to object 1 in object 1's RTN frame.

    rtn_tca_km: (3,) R, T, N components at TCA. rtn_track_km: optional (n, 3)
    relative track around TCA, drawn as a line. Three panels: T-R, T-N, N-R.
    """
    tca = np.asarray(rtn_tca_km, dtype=float)
    track = None if rtn_track_km is None else np.asarray(rtn_track_km, dtype=float)
    fig = _figure(figsize=(9.6, 3.4))
    axes = fig.subplots(1, 3)
    names = ("radial R (km)", "in-track T (km)", "cross-track N (km)")
    for ax, (ix, iy) in zip(axes, ((1, 0), (1, 2), (2, 0)), strict=True):
        if track is not None and len(track):
            ax.plot(
                track[:, ix],
                track[:, iy],
                color=OKABE_ITO["sky_blue"],
                lw=1.2,
                label="relative track",
            )
        ax.plot(
            [0.0],
            [0.0],
            marker="+",
            ms=10,
            mew=2,
            ls="none",
            color=OKABE_ITO["black"],
            label="object 1",
        )
        ax.plot(
            [tca[ix]],
            [tca[iy]],
            marker="x",
            ms=8,
            mew=2,
            ls="none",
            color=OKABE_ITO["vermillion"],
            label="object 2 at TCA",
        )
        ax.set_xlabel(names[ix])
        ax.set_ylabel(names[iy])
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize="x-small")
    fig.suptitle("Object 2 relative to object 1 (RTN of object 1)")
    return fig


def gabbard(period_min, apogee_km, perigee_km, object_type) -> Figure:
    """Return a Gabbard diagram: apogee (^) and perigee (v) altitude vs period.

    All arrays have shape (n,), one entry per object; colours and markers tell
    payloads, rocket bodies, debris and unknown objects apart.
    """
    period = np.asarray(period_min, dtype=float)
    apo = np.asarray(apogee_km, dtype=float)
    peri = np.asarray(perigee_km, dtype=float)
    types = np.array([type_label(t) for t in object_type], dtype=object)
    fig = _figure()
    ax = fig.add_subplot()
    # Unknown objects first, so they never hide the payloads and debris.
    for kind in ("UNKNOWN", "PAYLOAD", "ROCKET BODY", "DEBRIS"):
        colour = TYPE_STYLE[kind][0]
        m = (types == kind) & np.isfinite(period)
        if not m.any():
            continue
        ax.scatter(
            period[m],
            apo[m],
            marker="^",
            s=14,
            color=colour,
            rasterized=True,
            label=f"{kind.lower()} apogee ({m.sum()})",
        )
        ax.scatter(
            period[m],
            peri[m],
            marker="v",
            s=14,
            facecolors="none",
            edgecolors=colour,
            rasterized=True,
            label=f"{kind.lower()} perigee",
        )
    if not np.isfinite(period).any():
        _empty_note(ax, "no objects")
    elif np.nanmax(apo) > GABBARD_LOG_ABOVE_KM:
        # LEO and GEO together: log axes keep the LEO cloud readable.
        ax.set_xscale("log", nonpositive="mask")
        ax.set_yscale("log", nonpositive="mask")
    ax.set_xlabel("orbital period (min)")
    ax.set_ylabel("altitude (km)")
    ax.set_title("Gabbard diagram of the objects involved")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize="x-small", ncol=2)
    return fig
