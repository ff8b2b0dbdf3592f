"""Seeded synthetic catalogs ("tomorrow's catalogs") and random subsets of a real 3LE catalog.

Both work on 3LE text so that every run, ours or a baseline, loads the result
with the same reader as a real catalog.

How a synthetic catalog of ``n_total`` objects is made from a real one of ``n_real``:

1. Every real object is kept unchanged.
2. ``n_new = n_total - n_real`` objects are added. Half of them (``SHELL_SHARE``,
   at most the 24,424 slots of all shells) fill mega-constellation shells from
   ``SHELLS`` in table order, the last one used cut short. Each shell is a
   Walker-delta pattern (``planes`` equally spaced nodes, ``per_plane`` equally
   spaced slots, phasing ``F``), circular (e = 1e-4), at the altitude and
   inclination of public filings (Starlink Gen2, Kuiper, Guowang, Qianfan,
   OneWeb), epoch = the base catalog's median epoch, B* = 1e-4 per Earth radius.
   All slots of a shell share every element but node and mean anomaly, so SGP4
   keeps the pattern rigid. Each shell's F was picked once (searching F with the
   sort-and-sweep baseline over 0.07 d, about one orbit) so that the shell alone has
   no approach below 5 km, as operators phase planes to keep satellites apart
   where planes cross; a careless F adds thousands of artificial self-conjunctions
   a day. Shells at neighbouring altitudes (Starlink Gen2 at 525/530/535 km) still
   meet each other, as filed.
3. The rest are clones of real objects drawn uniformly with replacement. A clone
   keeps the source's lines (epoch, mean motion, eccentricity, inclination,
   argument of perigee, B*) except its mean anomaly and right ascension of the
   node, which get independent uniform shifts in [0, 360) degrees. Clones
   therefore reproduce the real altitude/inclination/type mix (debris stays
   debris: the name keeps its words and gains a ``SYN`` suffix).

Synthetic objects take catalog numbers from the Alpha-5 range no real object
uses here (100000..269999, then 280000..339999), so files stay valid 3LE.
Everything derives from ``numpy.random.default_rng(seed)``: same seed, same file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MU_EARTH_KM3_S2 = 398600.8  # WGS72, the constants SGP4 uses
R_EARTH_KM = 6378.135  # WGS72 equatorial radius
SHELL_SHARE = 0.5  # fraction of the added objects that go into constellation shells
SHELL_ECCENTRICITY = 1e-4
SHELL_BSTAR = 1e-4
ALPHA5_RANGES = ((100000, 269999), (280000, 339999))
ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O are skipped by the standard


@dataclass(frozen=True)
class Shell:
    """One Walker-delta shell: altitude (km), inclination (deg), planes x slots, phasing F."""

    name: str
    altitude_km: float
    inclination_deg: float
    planes: int
    per_plane: int
    phasing: int  # Walker F: plane p's slots are shifted by 360 * F * p / (planes * per_plane)


# Public filings, rounded (FCC/ITU filings as reported in the press; illustrative, not exact).
SHELLS = (
    Shell("STARLINK-G2A", 525.0, 53.0, 28, 120, 27),
    Shell("KUIPER-A", 630.0, 51.9, 34, 34, 33),
    Shell("GUOWANG-A", 508.0, 55.0, 60, 60, 20),
    Shell("STARLINK-G2B", 530.0, 43.0, 28, 120, 1),
    Shell("QIANFAN-A", 1160.0, 53.0, 36, 36, 4),
    Shell("KUIPER-B", 610.0, 42.0, 36, 36, 35),
    Shell("STARLINK-G2C", 535.0, 33.0, 28, 120, 27),
    Shell("ONEWEB-G2", 1200.0, 87.9, 36, 49, 2),
    Shell("GUOWANG-B", 600.0, 50.0, 40, 50, 17),
    Shell("KUIPER-C", 590.0, 33.0, 28, 28, 1),
    Shell("STARLINK-G2D", 560.0, 97.6, 12, 60, 11),
    Shell("GUOWANG-C", 1145.0, 30.0, 48, 36, 21),
)


def read_3le(path: str | Path) -> list[tuple[str, str, str]]:
    """Return (name, line1, line2) triples of a 3LE file (names without the leading ``0 ``)."""
    lines = [ln.rstrip("\r\n") for ln in Path(path).read_text().splitlines() if ln.strip()]
    out = []
    i = 0
    while i + 2 < len(lines):
        name, l1, l2 = lines[i], lines[i + 1], lines[i + 2]
        if l1.startswith("1 ") and l2.startswith("2 "):
            out.append((name[2:] if name.startswith("0 ") else name, l1, l2))
            i += 3
        else:  # not 3LE-aligned here: skip one line (the loader reports such lines)
            i += 1
    return out


def write_3le(path: str | Path, triples) -> Path:
    """Write (name, line1, line2) triples as a 3LE file; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for name, l1, l2 in triples:
            fh.write(f"0 {name}\n{l1}\n{l2}\n")
    return path


def subset_3le(base_path, n: int, seed: int, out_path) -> Path:
    """Write a seeded random subset of ``n`` objects of ``base_path`` (file order kept)."""
    triples = read_3le(base_path)
    if n >= len(triples):
        return write_3le(out_path, triples)
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(triples), size=n, replace=False))
    return write_3le(out_path, [triples[i] for i in keep])


def checksum(line68: str) -> int:
    """Return the TLE modulo-10 checksum of the first 68 columns."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line68[:68]) % 10


def alpha5(number: int) -> str:
    """Return the 5-character Alpha-5 catalog number (e.g. 270288 -> ``T0288``)."""
    if number < 100000:
        return f"{number:05d}"
    head, rest = divmod(number, 10000)
    return f"{ALPHA5_LETTERS[head - 10]}{rest:04d}"


def _synthetic_numbers(count: int):
    """Yield ``count`` unused catalog numbers from ``ALPHA5_RANGES``."""
    capacity = sum(hi - lo + 1 for lo, hi in ALPHA5_RANGES)
    if count > capacity:
        raise ValueError(
            f"{count} synthetic objects asked, at most {capacity} numbers "
            "exist in the Alpha-5 range; ask for a smaller catalog"
        )
    made = 0
    for lo, hi in ALPHA5_RANGES:
        for num in range(lo, hi + 1):
            if made == count:
                return
            yield num
            made += 1


def _with_checksum(line: str) -> str:
    line = line[:68].ljust(68)
    return line + str(checksum(line))


def _exp_field(value: float) -> str:
    """Return an 8-column TLE 'assumed decimal point' field (B*, nddot): `` 10000-3``."""
    if value == 0.0:
        return " 00000-0"
    exponent = math.floor(math.log10(abs(value))) + 1
    digits = round(abs(value) / 10.0**exponent * 1e5)
    if digits >= 100000:
        digits, exponent = 10000, exponent + 1
    sign = "-" if value < 0 else " "
    return f"{sign}{digits:05d}{'-' if exponent < 0 else '+'}{abs(exponent):d}"


def clone_lines(l1: str, l2: str, satnum: str, d_raan_deg: float, d_ma_deg: float):
    """Return a clone's (line1, line2): new number, node and mean anomaly shifted (deg)."""
    raan = (float(l2[17:25]) + d_raan_deg) % 360.0
    ma = (float(l2[43:51]) + d_ma_deg) % 360.0
    n1 = f"{l1[:2]}{satnum}{l1[7:]}"
    n2 = f"{l2[:2]}{satnum}{l2[7:17]}{raan:8.4f}{l2[25:43]}{ma:8.4f}{l2[51:]}"
    return _with_checksum(n1), _with_checksum(n2)


def shell_lines(
    satnum: str,
    epoch_yyddd: str,
    inc_deg: float,
    raan_deg: float,
    ma_deg: float,
    altitude_km: float,
):
    """Return (line1, line2) of a circular shell satellite at ``altitude_km``."""
    a_km = R_EARTH_KM + altitude_km
    n_rev_day = math.sqrt(MU_EARTH_KM3_S2 / a_km**3) * 86400.0 / (2.0 * math.pi)
    ecc7 = round(SHELL_ECCENTRICITY * 1e7)
    l1 = f"1 {satnum}U          {epoch_yyddd}  .00000000  00000-0 {_exp_field(SHELL_BSTAR)} 0  999"
    l2 = (
        f"2 {satnum} {inc_deg:8.4f} {raan_deg % 360.0:8.4f} {ecc7:07d} {0.0:8.4f} "
        f"{ma_deg % 360.0:8.4f} {n_rev_day:11.8f}    1"
    )
    return _with_checksum(l1), _with_checksum(l2)


def _median_epoch_field(triples) -> str:
    """Return the median epoch of the triples as the TLE field ``YYDDD.DDDDDDDD``."""
    years = np.array([int(l1[18:20]) for _, l1, _ in triples])
    days = np.array([float(l1[20:32]) for _, l1, _ in triples])
    full = np.where(years < 57, 2000 + years, 1900 + years)
    key = full * 1000.0 + days  # monotonic within a few years: good enough for a median
    i = int(np.argsort(key)[len(key) // 2])
    return triples[i][1][18:32]


def synthetic_3le(base_path, n_total: int, seed: int, out_path) -> dict:
    """Write a synthetic catalog of ``n_total`` objects grown from ``base_path``; return its recipe.

    The recipe dict (counts of real, shell and cloned objects, shells used, seed)
    is what results.json records next to each measurement.
    """
    real = read_3le(base_path)
    n_new = n_total - len(real)
    if n_new < 0:
        raise ValueError(
            f"n_total={n_total} is smaller than the base catalog "
            f"({len(real)} objects); use subset_3le for smaller catalogs"
        )
    rng = np.random.default_rng(seed)
    numbers = (alpha5(k) for k in _synthetic_numbers(n_new))
    epoch = _median_epoch_field(real)
    out = list(real)
    n_shell_target = int(round(SHELL_SHARE * n_new))
    shells_used = []
    made = 0
    for shell in SHELLS:
        if made >= n_shell_target:
            break
        count = 0
        for p in range(shell.planes):
            raan = 360.0 * p / shell.planes
            for s in range(shell.per_plane):
                if made >= n_shell_target:
                    break
                # Walker delta: slot spacing plus the per-plane phase offset F.
                ma = 360.0 * s / shell.per_plane + 360.0 * shell.phasing * p / (
                    shell.planes * shell.per_plane
                )
                l1, l2 = shell_lines(
                    next(numbers), epoch, shell.inclination_deg, raan, ma, shell.altitude_km
                )
                out.append((f"SYN {shell.name} P{p:02d} S{s:03d}", l1, l2))
                made += 1
                count += 1
        shells_used.append(
            {
                "name": shell.name,
                "altitude_km": shell.altitude_km,
                "inclination_deg": shell.inclination_deg,
                "objects": count,
            }
        )
    n_clones = n_new - made
    sources = rng.integers(0, len(real), size=n_clones)
    d_raan = rng.uniform(0.0, 360.0, size=n_clones)
    d_ma = rng.uniform(0.0, 360.0, size=n_clones)
    for src, dr, dm in zip(sources, d_raan, d_ma, strict=True):
        name, l1, l2 = real[src]
        c1, c2 = clone_lines(l1, l2, next(numbers), float(dr), float(dm))
        out.append((f"{name} SYN", c1, c2))
    write_3le(out_path, out)
    return {
        "base": str(base_path),
        "seed": seed,
        "objects": len(out),
        "real": len(real),
        "shell_objects": made,
        "clones": n_clones,
        "shells": shells_used,
    }
