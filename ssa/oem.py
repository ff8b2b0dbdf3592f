"""CCSDS Orbit Ephemeris Messages (OEM, CCSDS 502.0-B-3, KVN) from SGP4, and reading them.

``ephemeris(satrec, jd0, fr0, times_s, frame)`` samples SGP4 states;
``write_oem(path, segments)`` writes them as an OEM (version 3.0) with one segment
per object; ``read_oem(path)`` returns the segments back. Frames: ``TEME`` (SGP4's
own output, no conversion) or ``GCRF`` (rotated with skyfield's TEME -> GCRS
rotation; the rotation's rate, ~1e-12 rad/s of precession-nutation, is left out of
the velocity). Epochs are UTC, written to the microsecond; positions in km with 9
decimals (1 um), velocities in km/s with 12.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssa.errors import InputFileError, UserError

OEM_VERSION = "3.0"
FRAMES = ("TEME", "GCRF")
SECONDS_PER_DAY = 86400.0
_EPOCH_JD = 2440587.5  # 1970-01-01T00:00:00 UTC


@dataclass
class OemSegment:
    """One OEM segment: ``meta`` (keyword -> text), ``epochs`` (UTC text), ``states_km``
    (n, 6) position km and velocity km/s, plus ``comments``."""

    meta: dict
    epochs: list[str]
    states_km: np.ndarray
    comments: list[str] = field(default_factory=list)

    def jd_fr(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the epochs as two-part Julian dates (whole days, fraction)."""
        jd, fr = zip(*(_jd_fr(e) for e in self.epochs), strict=True)
        return np.array(jd), np.array(fr)


def _utc_text(jd: float, fr: float) -> str:
    """Return ISO UTC text to the microsecond of a two-part JD (rounded once, to 1 us)."""
    days = (jd - _EPOCH_JD) + fr
    whole = np.floor(days)
    micro = round((days - whole) * SECONDS_PER_DAY * 1e6)
    when = dt.datetime(1970, 1, 1) + dt.timedelta(days=int(whole), microseconds=micro)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _jd_fr(text: str) -> tuple[float, float]:
    when = dt.datetime.fromisoformat(text.strip().rstrip("Z"))
    day = dt.datetime(when.year, when.month, when.day)
    jd = _EPOCH_JD + (day - dt.datetime(1970, 1, 1)).days
    fr = (when - day).total_seconds() / SECONDS_PER_DAY
    return jd, fr


def ephemeris(satrec, jd0: float, fr0: float, times_s, frame: str = "TEME"):
    """Return (jd, fr, states (n, 6) km and km/s, errors (n,)) of SGP4 at ``times_s``
    seconds after (jd0, fr0), in ``frame`` (TEME or GCRF)."""
    if frame not in FRAMES:
        raise UserError(f"frame {frame!r}: expected one of {', '.join(FRAMES)}")
    t = np.asarray(times_s, dtype=np.float64)
    # Whole days in jd, the rest in fr, so every epoch keeps full precision.
    days = fr0 + t / SECONDS_PER_DAY
    shift = np.floor(days)
    jd, fr = jd0 + shift, days - shift
    err, r, v = satrec.sgp4_array(jd, fr)
    if frame == "GCRF":
        from ssa.geometry.frames import teme_to_gcrf_rotation

        rot = teme_to_gcrf_rotation(jd, fr)
        r, v = np.einsum("nij,nj->ni", rot, r), np.einsum("nij,nj->ni", rot, v)
    return jd, fr, np.hstack([r, v]), err


def write_oem(
    path,
    segments: list[OemSegment],
    originator: str = "SSA",
    creation: dt.datetime | None = None,
    comments: list[str] | None = None,
) -> Path:
    """Write ``segments`` as one OEM (KVN); return the path."""
    creation = creation or dt.datetime.now(dt.timezone.utc)
    lines = [f"CCSDS_OEM_VERS = {OEM_VERSION}"]
    lines += [f"COMMENT {c}" for c in (comments or [])]
    lines += [
        f"CREATION_DATE = {creation.strftime('%Y-%m-%dT%H:%M:%S')}",
        f"ORIGINATOR = {originator}",
        "",
    ]
    for seg in segments:
        lines.append("META_START")
        lines += [f"{k} = {v}" for k, v in seg.meta.items()]
        lines += ["META_STOP", ""]
        lines += [f"COMMENT {c}" for c in seg.comments]
        for epoch, s in zip(seg.epochs, seg.states_km.tolist(), strict=True):
            lines.append(
                f"{epoch} {s[0]:.9f} {s[1]:.9f} {s[2]:.9f} {s[3]:.12f} {s[4]:.12f} {s[5]:.12f}"
            )
        lines.append("")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def segment_for(
    satrec,
    norad_id: int,
    name: str,
    intl_des: str,
    jd0: float,
    fr0: float,
    days: float,
    step_s: float,
    frame: str = "TEME",
) -> OemSegment:
    """Return the OEM segment of one object: SGP4 states every ``step_s`` for ``days``.

    Epochs where SGP4 fails (decay) are left out and said in a COMMENT."""
    if not (step_s > 0 and days > 0):
        raise UserError(f"need a positive step and span, got step {step_s} s, {days} d")
    n = int(np.floor(days * SECONDS_PER_DAY / step_s + 1e-9)) + 1
    jd, fr, states, err = ephemeris(satrec, jd0, fr0, np.arange(n) * step_s, frame)
    ok = err == 0
    epochs = [_utc_text(a, b) for a, b in zip(jd[ok], fr[ok], strict=True)]
    if not epochs:
        raise UserError(
            f"{name} ({norad_id}): SGP4 fails over the whole span (error "
            f"{int(err[0])}); no ephemeris to write"
        )
    meta = {
        "OBJECT_NAME": name or str(norad_id),
        "OBJECT_ID": intl_des or str(norad_id),
        "CENTER_NAME": "EARTH",
        "REF_FRAME": frame,
        "TIME_SYSTEM": "UTC",
        "START_TIME": epochs[0],
        "STOP_TIME": epochs[-1],
        "INTERPOLATION": "LAGRANGE",
        "INTERPOLATION_DEGREE": "7",
    }
    comments = [
        f"SGP4 (WGS72, sgp4 library) of NORAD {norad_id}; states in {frame}"
        + ("" if frame == "TEME" else " (TEME rotated by skyfield)")
    ]
    if not ok.all():
        comments.append(f"{int((~ok).sum())} epochs left out: SGP4 error {int(err[~ok][0])}")
    return OemSegment(meta, epochs, states[ok], comments)


def read_oem(path) -> list[OemSegment]:
    """Return the segments of an OEM in KVN. Raises InputFileError (file, line, reason)
    for a damaged file; covariance blocks are skipped."""
    path = Path(path)
    segments: list[OemSegment] = []
    state = "header"
    meta: dict = {}
    epochs: list[str] = []
    rows: list[list[float]] = []
    comments: list[str] = []
    version = None

    def close():
        if meta:
            segments.append(
                OemSegment(
                    dict(meta),
                    list(epochs),
                    np.array(rows, dtype=np.float64).reshape(-1, 6),
                    list(comments),
                )
            )

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("COMMENT"):
            comments.append(line[7:].strip())
            continue
        if line == "META_START":
            close()
            meta, epochs, rows, comments, state = {}, [], [], [], "meta"
            continue
        if line == "META_STOP":
            state = "data"
            continue
        if line == "COVARIANCE_START":
            state = "covariance"
            continue
        if line == "COVARIANCE_STOP":
            state = "data"
            continue
        if state in ("header", "meta"):
            key, sep, value = line.partition("=")
            if not sep:
                raise InputFileError(path, lineno, f"expected KEYWORD = value, got {line!r}")
            key, value = key.strip(), value.strip()
            if state == "header" and key == "CCSDS_OEM_VERS":
                version = value
            if state == "meta":
                meta[key] = value
            continue
        if state == "covariance":
            continue
        parts = line.split()
        if len(parts) not in (7, 10):
            raise InputFileError(
                path, lineno, f"expected an epoch and 6 (or 9) numbers, got {len(parts)} fields"
            )
        try:
            values = [float(x) for x in parts[1:7]]
            _jd_fr(parts[0])
        except ValueError as exc:
            raise InputFileError(path, lineno, f"bad ephemeris line: {exc}") from None
        epochs.append(parts[0])
        rows.append(values)
    close()
    if version is None:
        raise InputFileError(path, 1, "not an OEM: no CCSDS_OEM_VERS line")
    if not segments:
        raise InputFileError(path, 1, "OEM without a META_START segment")
    return segments


__all__ = ["FRAMES", "OemSegment", "ephemeris", "read_oem", "segment_for", "write_oem"]
