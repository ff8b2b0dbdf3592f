"""Two-part Julian dates (UTC, as ``sgp4.api.jday`` returns them) <-> datetimes and text.

Datetimes are timezone-aware UTC; naive ones are refused (docs/DESIGN.md).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

J2000 = dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc)
J2000_JD = 2451545.0
_UNIX_JD = 2440587.5
_MS_PER_DAY = 86_400_000


def _aware(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None:
        raise ValueError(
            f"naive datetime {when.isoformat()}: give a timezone-aware UTC "
            "datetime, e.g. datetime(..., tzinfo=timezone.utc)"
        )
    return when.astimezone(dt.timezone.utc)


def datetime_to_jd(when: dt.datetime) -> tuple[float, float]:
    """Return the two-part Julian date (jd, fr) of an aware datetime, as ``sgp4.api.jday``."""
    from sgp4.api import jday

    w = _aware(when)
    return jday(w.year, w.month, w.day, w.hour, w.minute, w.second + w.microsecond * 1e-6)


def jd_to_datetime(jd: float, fr: float = 0.0) -> dt.datetime:
    """Return the aware UTC datetime of a two-part Julian date (microsecond resolution)."""
    return J2000 + dt.timedelta(days=(float(jd) - J2000_JD) + float(fr))


def jd_to_datetime64(jd, fr) -> np.ndarray:
    """Return numpy ``datetime64[us]`` (UTC) of two-part Julian dates (arrays of one shape).

    The parts are combined relative to the Unix epoch before scaling, so the
    microseconds keep their resolution.
    """
    unix_days = (np.asarray(jd, np.float64) - _UNIX_JD) + np.asarray(fr, np.float64)
    return np.round(unix_days * 86400e6).astype("int64").astype("datetime64[us]")


def format_utc(when: dt.datetime) -> str:
    """Return ``YYYY-MM-DDThh:mm:ssZ`` rounded to the second."""
    w = _aware(when) + dt.timedelta(microseconds=500_000)
    return w.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_utc_ms(jd, fr) -> list[str]:
    """Return ``YYYY-MM-DD HH:MM:SS.sss`` strings (SOCRATES' TCA format) of two-part JDs.

    Exact integer arithmetic on milliseconds, so rounding never carries into a
    wrong day (59.9996 s becomes the next minute correctly). Vectorised (the same
    float rounding as ``_civil_ms``, which still formats dates outside years 1-9999
    and non-finite ones: it raises for them, as before).
    """
    jd = np.atleast_1d(np.asarray(jd, float))
    fr = np.atleast_1d(np.asarray(fr, float))
    with np.errstate(invalid="ignore", over="ignore"):
        total_ms = np.rint(((jd - _UNIX_JD) + fr) * _MS_PER_DAY)  # round(): half to even
    if not np.all((total_ms >= _MIN_MS) & (total_ms <= _MAX_MS)):
        return [_civil_ms(a, b) for a, b in zip(jd.tolist(), fr.tolist(), strict=True)]
    return _civil_text(total_ms.astype(np.int64))


# Milliseconds from 1970 of 0001-01-01 and of the last ms of 9999 (datetime's range).
_MIN_MS = -62_135_596_800_000
_MAX_MS = 253_402_300_799_999


def _civil_text(total_ms: np.ndarray) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS.sss`` of integer ms from 1970 (proleptic Gregorian, as
    datetime), with H. Hinnant's days -> civil date algorithm in integer numpy."""
    days, rem = np.divmod(total_ms, _MS_PER_DAY)
    z = days + 719_468  # days from 0000-03-01
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    hh, rem = np.divmod(rem, 3_600_000)
    mm, rem = np.divmod(rem, 60_000)
    ss, mmm = np.divmod(rem, 1000)
    out = np.empty((total_ms.size, 23), np.uint8)
    out[:, [4, 7]] = ord("-")
    out[:, 10] = ord(" ")
    out[:, [13, 16]] = ord(":")
    out[:, 19] = ord(".")
    for value, first, width in (
        (year, 0, 4),
        (month, 5, 2),
        (day, 8, 2),
        (hh, 11, 2),
        (mm, 14, 2),
        (ss, 17, 2),
        (mmm, 20, 3),
    ):
        for k in range(width - 1, -1, -1):
            value, digit = np.divmod(value, 10)
            out[:, first + k] = 48 + digit
    return out.view("S23").ravel().astype("U23").tolist()


def _civil_ms(jd: float, fr: float) -> str:
    total_ms = round(((jd - _UNIX_JD) + fr) * _MS_PER_DAY)
    days, ms = divmod(total_ms, _MS_PER_DAY)
    d = dt.date(1970, 1, 1) + dt.timedelta(days=days)
    hh, rem = divmod(ms, 3_600_000)
    mm, rem = divmod(rem, 60_000)
    ss, mmm = divmod(rem, 1000)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {hh:02d}:{mm:02d}:{ss:02d}.{mmm:03d}"


def skyfield_time(ts, jd, fr):
    """Return skyfield Time(s) of UTC two-part JDs on timescale ``ts``.

    Whole UTC days go in the day field and the seconds of that day apart: a plain count
    of seconds from 2000 would step over the leap seconds since and land them early.
    """
    days = (np.atleast_1d(np.asarray(jd, np.float64)) - 2451544.5) + np.atleast_1d(
        np.asarray(fr, np.float64)
    )
    day = np.floor(days)
    return ts.utc(2000, 1, 1 + day.astype(int), 0, 0, (days - day) * 86400.0)
