"""How fast the public catalogue catalogues a breakup's fragments (data-derived).

The SATCAT has no cataloguing date, but catalogue numbers are handed out in order:
an object's number was assigned about when the launches with neighbouring numbers
were catalogued (first pieces, ``YYYY-NNNA``, are numbered within a day or two of
launch). Interpolating each fragment's number between those (number, launch date)
points gives its cataloguing date, within a few days (the launch spacing). For the
three big breakups this gives the share of the finally catalogued pieces that was in
the public catalogue t days after the event (``PUBLIC_CATALOGUED_SHARE``, made by
``python -m ssa.breakup.cataloguing $SSA_DATA/satcat-2025-03.csv.gz``):

========  =====  =====  =====  =====  =====  =====  =====  =====  =====  =====
days          3      7     14     21     30     60     90    180    365    730
========  =====  =====  =====  =====  =====  =====  =====  =====  =====  =====
FY-1C     0.000  0.000  0.080  0.160  0.209  0.295  0.378  0.557  0.656  0.673
Ir./Cos.  0.008  0.051  0.127  0.191  0.259  0.364  0.424  0.553  0.700  0.822
C. 1408   0.001  0.001  0.055  0.132  0.240  0.626  0.837  0.957  0.990  1.000
========  =====  =====  =====  =====  =====  =====  =====  =====  =====  =====

(shares of everything ever catalogued, decayed or not, up to the 2025-03 SATCAT).
Cross-checks with counts published at the time: Space-Track held 604 Cosmos 1408 pieces
on 2021-12-17, 32 days after the test (our dating: 494), and LeoLabs ~500 after five weeks
(https://leolabs.space/article/part-iii-cosmos-1408-breakup-observations-one-month-later;
the 604 from a reposted blog, "The Russian anti-satellite demonstration a month later");
516 Fengyun-1C pieces were on Space-Track on 2007-01-28, 17 days after (our dating: 404;
http://mt-milcom.blogspot.com/2007/01/fengyun-1c-now-we-have-over-400-pieces.html).
The dating lags by a few days (the launch spacing): a slightly slow public catalogue.

Model (used by the scenario pipeline and ``ssa exercise``): the public catalogue's
size limit is 10 cm (MODEL-ANCHORS); a simulated fragment below it is never publicly
catalogued; those above it are catalogued with the pooled (mean) curve of the three
events, largest first (judgement: radar SNR grows with size, so the big pieces are
correlated and catalogued first). A fragment's public element set is published at its
cataloguing time, after which the public catalogue knows it like any other object.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

PUBLIC_SIZE_LIMIT_M = 0.10
# Days after the event, and the share of the finally catalogued pieces in the public
# catalogue by then: mean of the three events above (the table's rows, plus 1 day and 45 d).
CURVE_DAYS = (0.0, 1.0, 3.0, 7.0, 14.0, 21.0, 30.0, 45.0, 60.0, 90.0, 180.0, 365.0, 730.0)
REAL_SHARES = {
    "Fengyun-1C": (0, 0, 0, 0, 0.080, 0.160, 0.209, 0.245, 0.295, 0.378, 0.557, 0.656, 0.673),
    "Iridium 33 / Cosmos 2251": (
        0,
        0,
        0.008,
        0.051,
        0.127,
        0.191,
        0.259,
        0.332,
        0.364,
        0.424,
        0.553,
        0.700,
        0.822,
    ),
    "Cosmos 1408": (
        0,
        0.001,
        0.001,
        0.001,
        0.055,
        0.132,
        0.240,
        0.462,
        0.626,
        0.837,
        0.957,
        0.990,
        1.0,
    ),
}
PUBLIC_CATALOGUED_SHARE = tuple(
    float(np.mean([v[k] for v in REAL_SHARES.values()])) for k in range(len(CURVE_DAYS))
)
EVENTS = (
    ("Fengyun-1C", ("FENGYUN 1C DEB",), "2007-01-11"),
    ("Iridium 33 / Cosmos 2251", ("COSMOS 2251 DEB", "IRIDIUM 33 DEB"), "2009-02-10"),
    ("Cosmos 1408", ("COSMOS 1408 DEB",), "2021-11-15"),
)


def public_share(days) -> np.ndarray:
    """Return the share of a cloud's catalogue-size pieces public ``days`` after the event."""
    return np.interp(np.asarray(days, float), CURVE_DAYS, PUBLIC_CATALOGUED_SHARE, left=0.0)


def public_delay_days(lc_m) -> np.ndarray:
    """Return (n,) days from the event until each fragment is in the public catalogue.

    Fragments below PUBLIC_SIZE_LIMIT_M: inf (never). The others, largest first, take the
    quantiles of the pooled curve; those beyond its last share: inf (not within 2 years).
    """
    lc = np.asarray(lc_m, float)
    out = np.full(lc.shape, np.inf)
    big = np.flatnonzero(lc >= PUBLIC_SIZE_LIMIT_M)
    if not big.size:
        return out
    order = big[np.argsort(-lc[big], kind="stable")]
    q = (np.arange(order.size) + 0.5) / order.size
    share = np.asarray(PUBLIC_CATALOGUED_SHARE)
    # invert the (non-decreasing) curve: first day at which the share reaches q
    days = np.interp(q, share + np.arange(share.size) * 1e-9, CURVE_DAYS)
    days[q > share[-1]] = np.inf
    out[order] = days
    return out


def _derive(names, object_ids, norad, launch_day) -> dict:
    """Return {event: {pieces, shares at CURVE_DAYS}} from SATCAT columns (launch_day: days
    since 1970, NaN unknown)."""
    import re

    first = np.array([bool(re.fullmatch(r"\d{4}-\d{3}A", str(o))) for o in object_ids])
    first &= np.isfinite(launch_day)
    n, d = norad[first], launch_day[first]
    order = np.argsort(n)
    n, d = n[order], d[order]
    keep = d >= np.maximum.accumulate(d)
    n, d = n[keep], d[keep]
    out = {}
    for label, pats, when in EVENTS:
        sel = np.isin(names, pats)
        t0 = np.datetime64(when, "D").astype(float)
        days = np.interp(norad[sel].astype(float), n.astype(float), d) - t0
        out[label] = {
            "pieces": int(sel.sum()),
            "shares": [float(np.mean(days <= x)) for x in CURVE_DAYS],
        }
    return out


def main(argv=None) -> int:
    import csv
    import gzip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("satcat", help="CelesTrak SATCAT CSV (gzip or not)")
    a = ap.parse_args(argv)
    opener = gzip.open if a.satcat.endswith(".gz") else open
    with opener(a.satcat, "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))

    def day(s):
        try:
            return float(np.datetime64(s[:10], "D").astype(float))
        except ValueError:
            return np.nan

    res = _derive(
        np.array([r["OBJECT_NAME"] for r in rows], dtype=object),
        [r["OBJECT_ID"] for r in rows],
        np.array([int(r["NORAD_CAT_ID"]) for r in rows]),
        np.array([day(r["LAUNCH_DATE"]) for r in rows]),
    )
    print("days " + " ".join(f"{x:6g}" for x in CURVE_DAYS))
    for k, v in res.items():
        print(f"{k} ({v['pieces']} pieces): " + " ".join(f"{x:6.3f}" for x in v["shares"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
