"""Security events inside ``ssa scenario run``: breakups and manoeuvres change the truth.

``apply_security_events`` is the one hook the truth stage calls (``truth.build_truth``).
For a scenario without ``breakup``/``manoeuvre`` events it returns its inputs unchanged.
Otherwise:

* **breakup**: the fragments (``ssa.breakup``, scenario seed) join the truth catalogue,
  each with its drawn size as its diameter for the tracking model (``rcs_size`` holds
  the float, ``tracking.object_diameter_m``). A catastrophically destroyed parent (and
  impactor) has no conjunctions after the event.
* **manoeuvre**: the object's element set is replaced by its post-burn one (fitted to
  its state plus delta-v at the burn, ``security.manoeuvre_effect``).
* **small_debris**: effects only (``security.exposure_effect``); the weighted sample of
  1-10 cm objects does not join the truth (each sample object stands for ~50).
* the screening function is wrapped so that no conjunction involves an object before
  it exists (fragments before the event; a manoeuvred object's new orbit before the
  burn) or after it is destroyed.

``EventObjects`` then tells the knowledge stage (``assess.participant_variances``) what
nobody can know: an object's tracks count only from ``born_s`` (the event or burn:
tracks of the old orbit say nothing about the new one), and the public catalogue holds
it only from ``public_from_s`` (fragments: the cataloguing delay of
``ssa.breakup.cataloguing``, never below 10 cm; a manoeuvred object: the first public
element set that shows the burn, ``security.manoeuvre_effect``'s public baseline).
Until a participant has tracks of its own (pooled in the grouping) or the public
catalogue has the object, its Pc for the event is 0: it cannot act.

The event-specific effects (fragments detected/maintained per participant after 1/3/7
days, manoeuvre detection time and warning) are computed once here
(``security.breakup_effect``/``manoeuvre_effect``) and written to summary.json as
``security`` with ``security_metrics`` (share of fragment approaches known at the
commit time, per participant).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SECONDS_PER_DAY = 86400.0
EVENT_KINDS = ("breakup", "manoeuvre", "small_debris")


@dataclass
class EventObjects:
    """Per truth-catalogue object: when its current orbit starts, when the public has it."""

    born_s: np.ndarray  # (N,) s since window start; -inf for ordinary objects
    public_from_s: np.ndarray  # (N,) s since window start; -inf ordinary, inf never
    died_s: np.ndarray  # (N,) s since window start; inf for ordinary objects
    kind: np.ndarray  # (N,) "" | "fragment" | "manoeuvre"
    effects: dict = field(default_factory=dict)

    def track_fraction(self, obj, t_s, span_days: float) -> np.ndarray:
        """Return the share (0-1) of the fit span before ``t_s`` in which ``obj`` existed."""
        born = self.born_s[np.asarray(obj)]
        born = born.reshape(born.shape + (1,) * (np.ndim(t_s) - born.ndim))
        return np.clip((np.asarray(t_s) - born) / (span_days * SECONDS_PER_DAY), 0.0, 1.0)

    def exists_s(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (from_s, until_s) (N,): when each object exists at all, for the tasking
        stage. A fragment from its breakup, a destroyed body until it; a manoeuvred object
        exists before its burn too (on its old orbit), so it stays eligible for tracks."""
        return np.where(self.kind == "fragment", self.born_s, -np.inf), self.died_s

    def public_known(self, obj, t_s) -> np.ndarray:
        """Return bool: the public catalogue holds ``obj``'s current orbit at ``t_s``."""
        pub = self.public_from_s[np.asarray(obj)]
        pub = pub.reshape(pub.shape + (1,) * (np.ndim(t_s) - pub.ndim))
        return np.asarray(t_s) >= pub


def _rebuild(catalog, satrecs, rcs_size=None):
    """Return a Catalog like ``catalog`` with other satrecs (derived arrays recomputed)."""
    from ssa.catalog import Catalog

    return Catalog(
        satrecs=satrecs,
        norad_id=catalog.norad_id,
        name=catalog.name,
        intl_des=catalog.intl_des,
        object_type=catalog.object_type,
        owner=catalog.owner,
        rcs_size=catalog.rcs_size if rcs_size is None else rcs_size,
        source=catalog.source,
        opsmode=catalog.opsmode,
        type_source=catalog.type_source,
        load_report=catalog.load_report,
    )


def apply_security_events(sc, catalog, screen, quiet: bool = True):
    """Return (catalog, screen, EventObjects or None) with ``sc``'s security events applied.

    ``screen`` is the truth screening callable (``truth.screen_truth`` signature); the
    returned one drops conjunctions of objects that do not exist at TCA.
    """
    from ssa.breakup.cataloguing import public_delay_days
    from ssa.population.generate import concat_catalogs
    from ssa.scenario import security
    from ssa.scenario.truth import protected_by

    events = [e for e in sc.events if e.kind in EVENT_KINDS]
    if not events:
        return catalog, screen, None
    n0 = len(catalog)
    born = np.full(n0, -np.inf)
    public = np.full(n0, -np.inf)
    died = np.full(n0, np.inf)
    kind = np.full(n0, "", dtype=object)
    effects = {"breakups": [], "manoeuvres": [], "small_debris": []}
    protected = protected_by(sc, catalog)
    base = catalog
    frags = []
    for e in events:
        t_e = (e.start - sc.start).total_seconds()
        if e.kind == "small_debris":  # effects only: a weighted sample is not truth
            effects["small_debris"].append(
                security.exposure_effect(sc, base, e, protected, quiet=quiet)
            )
        elif e.kind == "breakup":
            res = security.event_breakup(sc, base, e)
            effects["breakups"].append(
                security.breakup_effect(sc, base, e, protected, quiet=quiet, result=res)
            )
            frag = res.fragments
            size = res.cloud.lc_m[res.orbiting]
            frag.rcs_size = np.array([float(x) for x in size], dtype=object)
            frags.append((frag, t_e, t_e + public_delay_days(size) * SECONDS_PER_DAY))
            if res.cloud.budget.get("catastrophic"):
                for b in res.bodies:
                    died[base.norad_id == b.norad_id] = t_e
        else:
            eff, new = security.manoeuvre_effect(sc, base, e, quiet=quiet, return_orbit=True)
            effects["manoeuvres"].append(eff)
            i = int(np.flatnonzero(catalog.norad_id == e.params["object"])[0])
            sats = list(catalog.satrecs)
            sats[i] = new
            catalog = _rebuild(catalog, sats)
            born[i] = t_e
            pub_h = eff.get("public_detection_h")
            public[i] = np.inf if pub_h is None else t_e + pub_h * 3600.0
            kind[i] = "manoeuvre"
    for frag, t_e, pub in frags:
        catalog = concat_catalogs(catalog, frag)
        born = np.concatenate([born, np.full(len(frag), t_e)])
        public = np.concatenate([public, pub])
        died = np.concatenate([died, np.full(len(frag), np.inf)])
        kind = np.concatenate([kind, np.full(len(frag), "fragment", dtype=object)])
    objects = EventObjects(born, public, died, kind, effects)
    return catalog, _existing_only(screen, catalog, objects, sc.start), objects


def _existing_only(screen, catalog, objects: EventObjects, start):
    """Wrap ``screen``: drop rows whose objects do not exist at TCA."""
    from ssa.geometry import datetime_to_jd

    jd0, fr0 = datetime_to_jd(start)
    order = np.argsort(catalog.norad_id)
    ids = catalog.norad_id[order]

    def lookup(arr, norad):
        pos = np.clip(np.searchsorted(ids, norad), 0, len(ids) - 1)
        return np.where(ids[pos] == norad, arr[order][pos], np.nan)

    def run(cat, start_, days, threshold_km, primary_ids, quiet=True):
        rows = screen(cat, start_, days, threshold_km, primary_ids, quiet=quiet)
        if not len(rows.get("TCA_JD", [])):
            return rows
        tca = (
            (np.asarray(rows["TCA_JD"], float) - jd0) + (np.asarray(rows["TCA_FR"], float) - fr0)
        ) * SECONDS_PER_DAY
        keep = np.ones(tca.size, bool)
        for col in ("NORAD_CAT_ID_1", "NORAD_CAT_ID_2"):
            norad = np.asarray(rows[col], np.int64)
            b = lookup(objects.born_s, norad)
            d = lookup(objects.died_s, norad)
            keep &= ~(tca < b) & ~(tca > d)
        return {k: np.asarray(v)[keep] for k, v in rows.items()}

    return run


def security_metrics(result) -> dict:
    """Return the summary.json ``security`` section of a run with security events.

    Per participant: conjunctions of its protected satellites with fragments (or the
    manoeuvring object) and the share whose secondary it knew at the headline commit
    time (finite covariance: own/pooled tracks since the event or the public catalogue),
    also by TCA day after the window start; plus the event effects of ``security``.
    """
    ev = result.truth.events
    c = result.truth.conj
    out = {"effects": ev.effects, "participants": {}}
    for p in result.participants:
        pr = result.results[p.key]
        e = pr.events
        if not len(e):
            continue
        sec_obj = np.where(pr.secondary_side == 1, c["i2"][e], c["i1"][e])
        sig = pr.sigma_commit_m[np.arange(len(e)), pr.secondary_side]
        known = np.all(np.isfinite(sig), axis=1)
        entry = {}
        for label in ("fragment", "manoeuvre"):
            sel = ev.kind[sec_obj] == label
            if not np.any(sel):
                continue
            day = np.floor(c["tca_s"][e][sel] / SECONDS_PER_DAY).astype(int)
            entry[label] = {
                "approaches": int(sel.sum()),
                "known_at_commit": int(known[sel].sum()),
                "share_known": float(known[sel].mean()),
                "by_tca_day": {
                    int(d): {
                        "approaches": int(np.sum(day == d)),
                        "share_known": float(known[sel][day == d].mean()),
                    }
                    for d in np.unique(day)
                },
            }
        if entry:
            out["participants"][p.key] = entry
    return out
