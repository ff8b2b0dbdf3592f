"""What is in a catalog: counts by type, owner and orbit regime, epoch spread, load problems.

``summarize(catalog)`` returns a plain dict (JSON-ready) that ``ssa catalog
info`` prints; it reads only the ``Catalog`` arrays and its ``load_report``.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from ssa.catalog import REGIMES
from ssa.geometry.timeutil import format_utc, jd_to_datetime
from ssa.io.satcat import OBJECT_TYPES

# An element set this much older than the catalog's median (or newest) epoch
# is counted as old: a download holds each object's latest set, so most sit
# within a day of the median and a tail of rarely tracked or decaying objects
# reaches back weeks.
OLD_ELEMENT_SET_DAYS = 7.0
TOP_OWNERS = 10
NO_OWNER = "(none)"

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
# Numbers in a reason (checksums, values) but not the "line 1"/"line 2" of a TLE.
_NUMBER = re.compile(r"(?<!line )(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def reason_key(reason: str) -> str:
    """Return a problem reason without its values, so problems of one kind group together."""
    first = reason.split("\n", 1)[0]
    return _NUMBER.sub("#", _QUOTED.sub("'…'", first)).strip()


def group_problems(problems) -> list[dict]:
    """Return [{'reason', 'count', 'first'}] over ``problems``, most frequent first."""
    groups: dict[str, dict] = {}
    for p in problems:
        key = reason_key(p.reason)
        entry = groups.get(key)
        if entry is None:
            groups[key] = {"reason": key, "count": 1, "first": f"{p.file}:{p.line}"}
        else:
            entry["count"] += 1
    return sorted(groups.values(), key=lambda g: (-g["count"], g["reason"]))


def summarize(
    catalog, top_owners: int = TOP_OWNERS, old_days: float = OLD_ELEMENT_SET_DAYS
) -> dict:
    """Return a JSON-ready summary of ``catalog``.

    Keys: ``files``, ``read``, ``loaded``, ``skipped``, ``duplicates_dropped``,
    ``objects``, ``type_source`` ('satcat' or 'name'), ``satcat_missing``,
    ``by_type``, ``by_owner`` (top ``top_owners``), ``owners_other``,
    ``owners_distinct``, ``by_regime``, ``epoch_min``/``epoch_median``/
    ``epoch_max`` (UTC ISO), ``old_element_sets`` (counts older than
    ``old_days`` before the median and before the newest epoch) and
    ``skipped_by_reason``.
    """
    report = catalog.load_report
    n = len(catalog)
    types = Counter(catalog.object_type.tolist())
    by_type = {t: types.pop(t, 0) for t in OBJECT_TYPES}
    by_type.update(sorted(types.items()))  # anything unexpected stays visible

    owners = Counter(o if o else NO_OWNER for o in catalog.owner.tolist())
    top = owners.most_common()
    # Ties broken by code so the top list is stable.
    top.sort(key=lambda kv: (-kv[1], kv[0]))
    by_owner = dict(top[:top_owners])
    owners_other = sum(count for _, count in top[top_owners:])

    regimes = Counter(catalog.regime.tolist())
    by_regime = {r: regimes.get(r, 0) for r in REGIMES}

    # Epoch offsets (days) from the earliest epoch: jd and fr are subtracted
    # separately so the fraction keeps its resolution.
    jd0 = float(np.min(catalog.epoch_jd))
    offset_days = (catalog.epoch_jd - jd0) + catalog.epoch_fr
    i_min = int(np.argmin(offset_days))
    i_max = int(np.argmax(offset_days))
    med_jd, med_fr = catalog.epoch_median()
    median_offset = (med_jd - jd0) + med_fr
    newest_offset = float(offset_days[i_max])
    old = {
        "days": old_days,
        "older_than_median_minus_days": int(
            np.count_nonzero(offset_days < median_offset - old_days)
        ),
        "older_than_newest_minus_days": int(
            np.count_nonzero(offset_days < newest_offset - old_days)
        ),
    }

    return {
        "files": list(report.files),
        "read": int(report.read),
        "loaded": int(report.loaded),
        "skipped": int(report.skipped),
        "duplicates_dropped": int(report.duplicates_dropped),
        "objects": n,
        "type_source": catalog.type_source,
        "satcat_missing": int(report.satcat_missing) if catalog.type_source == "satcat" else None,
        "by_type": by_type,
        "by_owner": by_owner,
        "owners_other": owners_other,
        "owners_distinct": len(owners),
        "by_regime": by_regime,
        "epoch_min": format_utc(jd_to_datetime(catalog.epoch_jd[i_min], catalog.epoch_fr[i_min])),
        "epoch_median": format_utc(jd_to_datetime(med_jd, med_fr)),
        "epoch_max": format_utc(jd_to_datetime(catalog.epoch_jd[i_max], catalog.epoch_fr[i_max])),
        "old_element_sets": old,
        "skipped_by_reason": report.by_reason(),
    }
