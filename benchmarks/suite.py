"""The benchmark suite behind ``ssa bench``: runs every measurement, writes results.

``run_suite(out_dir, quick=...)`` writes ``results.json`` (machine, versions,
every measurement with its inputs), ``results.md`` (tables) and PNG plots.
Each measurement runs in its own child process (``benchmarks.child``) so peak
memory (``ru_maxrss`` from ``os.wait4``) and CPU time belong to that run alone.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import synthetic

DEFAULT_CATALOG = "catalog-2024-07-05.3le"  # in SSA_DATA
MATCH_TCA_S = 5.0  # a baseline conjunction matches ours when same pair and TCAs this close
BORDERLINE_KM = 0.01  # misses this close to the threshold may fall either side: reported apart
EDGE_S = 20.0  # minima this close to the window ends may be edge effects: reported apart
SEED = 20240705
CHILD_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Config:
    """What one suite run measures (sizes, spans, repeats)."""

    name: str
    prop_objects: int = 1000  # propagation throughput: seeded subset of the catalog ...
    prop_times: int = 8641  # ... at 10 s steps over one day (a fixed-step screener's density)
    prop_repeats: int = 3
    headline_days: tuple = (1.0, 7.0)  # full-catalog screening at 5 km
    size_fractions: tuple = (0.125, 0.25, 0.5, 1.0)
    size_days: float = 1.0
    spans_days: tuple = (1.0, 3.0, 7.0)
    thresholds_km: tuple = (1.0, 5.0, 10.0, 25.0)
    threshold_days: float = 0.25
    baseline_fractions: tuple = (0.0625, 0.125)
    baseline_days: float = 1.0
    baseline_step_s: float = 10.0
    brute_step_stride: int = 4  # brute force timed on every 4th chunk of steps, extrapolated
    synthetic_sizes: tuple = (50_000, 100_000, 200_000)
    synthetic_days: float = 0.25
    max_repeats: int = 3  # short runs are repeated (median reported) ...
    repeat_budget_s: float = 20.0  # ... while their total stays under this
    threshold_km: float = 5.0
    extra: dict = field(default_factory=dict)


FULL = Config(name="full")
QUICK = Config(
    name="quick",
    prop_objects=500,
    prop_repeats=1,
    headline_days=(1.0,),
    size_fractions=(0.125, 0.25, 0.5, 1.0),
    size_days=0.1,
    spans_days=(0.1, 0.25, 1.0),
    thresholds_km=(1.0, 5.0, 25.0),
    threshold_days=0.1,
    baseline_fractions=(0.0625,),
    baseline_days=0.25,
    brute_step_stride=1,
    synthetic_sizes=(50_000,),
    synthetic_days=0.1,
    max_repeats=3,
    repeat_budget_s=6.0,
)


def _limited(cfg: Config, limit: int) -> Config:
    """Shrink a config for a tiny input (tests): synthetic sizes become 2x and 4x the limit."""
    return replace(
        cfg,
        name=f"{cfg.name}-limit{limit}",
        prop_times=min(cfg.prop_times, 361),
        headline_days=(min(cfg.headline_days),),
        spans_days=cfg.spans_days[:2],
        thresholds_km=(1.0, 5.0),
        size_fractions=(0.5, 1.0),
        baseline_fractions=(0.5,),
        synthetic_sizes=(2 * limit,),
        synthetic_days=min(cfg.synthetic_days, 0.1),
        max_repeats=1,
        prop_repeats=1,
    )


# --- child processes -----------------------------------------------------------------------


def run_child(spec: dict, work: Path, timeout_s: float = CHILD_TIMEOUT_S, env=None) -> dict:
    """Run one job in a fresh Python; return its result plus wall, CPU and peak memory."""
    tag = f"{spec['kind']}-{time.monotonic_ns()}"
    spec_path, out_path = work / f"{tag}.spec.json", work / f"{tag}.out.json"
    spec_path.write_text(json.dumps(spec))
    cmd = [sys.executable, "-m", f"{__package__}.child", str(spec_path), str(out_path)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    deadline = t0 + timeout_s
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()  # our own child, by its pid
            pid, status, usage = os.wait4(proc.pid, 0)
            timed_out = True
            break
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.stderr.close()
    wall = time.perf_counter() - t0
    if out_path.exists():
        result = json.loads(out_path.read_text())
    else:
        why = "timeout" if timed_out else f"exit status {proc.returncode}"
        result = {"ok": False, "error": f"child produced no result ({why}): {stderr[-800:]}"}
    result["process"] = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024.0,  # Linux: kilobytes
        "exit_status": proc.returncode,
        "timed_out": timed_out,
    }
    return result


# --- helpers ---------------------------------------------------------------------------------


def epoch_median(triples) -> tuple[float, float]:
    """Median element-set epoch (jd, fr) of 3LE triples, as Catalog.epoch_median computes it."""
    from sgp4.api import Satrec

    sats = [Satrec.twoline2rv(a, b) for _, a, b in triples]
    jd = np.array([s.jdsatepoch for s in sats])
    fr = np.array([s.jdsatepochF for s in sats])
    jd0 = float(jd.min())
    med = float(np.median((jd - jd0) + fr))
    whole = math.floor(med)
    return jd0 + whole, med - whole


def fit_exponent(xs, ys) -> float | None:
    """Least-squares slope of log(y) against log(x): the scaling exponent."""
    pts = [
        (math.log(x), math.log(y))
        for x, y in zip(xs, ys, strict=True)
        if x and y and x > 0 and y > 0
    ]
    if len(pts) < 2:
        return None
    a = np.array(pts)
    return float(np.polyfit(a[:, 0], a[:, 1], 1)[0])


def machine_info() -> dict:
    """CPU, cores, memory, OS and package versions of this run."""
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "utc": datetime.now(timezone.utc).isoformat(),
    }
    try:
        info["sched_affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_gb"] = round(int(line.split()[1]) / 1024**2, 1)
        info["load_avg_start"] = os.getloadavg()
    except OSError:
        pass
    versions = {}
    for mod in ("ssa", "numpy", "numba", "scipy", "sgp4", "heyoka"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            versions[mod] = None
    info["versions"] = versions
    try:
        repo = Path(__file__).resolve().parent.parent
        info["git_commit"] = (
            subprocess.run(
                ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = None
    return info


def _tca_s(conj: dict, jd0: float, fr0: float) -> float:
    return ((conj["tca_jd"] - jd0) + (conj["tca_fr"] - fr0)) * 86400.0


def recall(ours: list[dict], base: list[dict], jd0, fr0, threshold_km, span_s) -> dict:
    """Compare a baseline's conjunctions with ours: matched, missing on either side, deltas.

    Unmatched events within ``BORDERLINE_KM`` of the threshold, or within ``EDGE_S`` of
    the window's ends (where one side may report a boundary minimum), are counted apart.
    """

    def special(tca_s, miss_km):
        return (
            abs(miss_km - threshold_km) < BORDERLINE_KM or tca_s < EDGE_S or tca_s > span_s - EDGE_S
        )

    by_pair: dict = {}
    for c in ours:
        by_pair.setdefault((c["norad_id_1"], c["norad_id_2"]), []).append(
            [_tca_s(c, jd0, fr0), c["miss_km"], False]
        )
    matched, only_base, only_base_special = 0, 0, 0
    d_tca, d_miss = [], []
    missing_examples = []
    for b in base:
        cands = [c for c in by_pair.get((b["norad_id_1"], b["norad_id_2"]), []) if not c[2]]
        best = min(cands, key=lambda c: abs(c[0] - b["tca_s"]), default=None)
        if best is not None and abs(best[0] - b["tca_s"]) <= MATCH_TCA_S:
            best[2] = True
            matched += 1
            d_tca.append(abs(best[0] - b["tca_s"]))
            d_miss.append(abs(best[1] - b["miss_km"]))
        else:
            only_base += 1
            if special(b["tca_s"], b["miss_km"]):
                only_base_special += 1
            elif len(missing_examples) < 5:
                missing_examples.append(b)
    unmatched = [c for cs in by_pair.values() for c in cs if not c[2]]
    only_ours_special = sum(special(c[0], c[1]) for c in unmatched)
    return {
        "ours": len(ours),
        "baseline": len(base),
        "matched": matched,
        "only_baseline": only_base,
        "only_baseline_borderline": int(only_base_special),
        "only_ours": len(unmatched),
        "only_ours_borderline": int(only_ours_special),
        "recall_of_baseline": matched / len(base) if base else None,
        "max_dtca_s": max(d_tca) if d_tca else None,
        "max_dmiss_m": 1000.0 * max(d_miss) if d_miss else None,
        "missed_by_ours_examples": missing_examples,
    }


# --- the suite -------------------------------------------------------------------------------


class Suite:
    """State of one suite run: config, work folder, start epoch, results and a logger."""

    def __init__(self, cfg: Config, catalog: Path, work: Path, log, budget_s=None):
        self.cfg, self.catalog, self.work, self.log = cfg, catalog, work, log
        self.deadline = time.perf_counter() + budget_s if budget_s else math.inf
        # One numba cache per suite: the first run compiles (timed as such), the rest load.
        cache = work / "numba-cache"
        cache.mkdir(exist_ok=True)
        self.env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
        self.triples = synthetic.read_3le(catalog)
        self.n = len(self.triples)
        self.jd0, self.fr0 = epoch_median(self.triples)
        self.results: dict = {"runs": []}
        self.known: dict = {}  # (days, threshold_km, objects) -> screening run, reused

    def subset(self, n: int) -> Path:
        path = self.work / f"subset-{n}.3le"
        if not path.exists():
            synthetic.subset_3le(self.catalog, n, SEED, path)
        return path

    def remaining_s(self) -> float:
        return self.deadline - time.perf_counter()

    def child(self, spec: dict, env=None) -> dict:
        """Run a job unless the suite's time budget is spent (then it is recorded as skipped)."""
        left = self.remaining_s()
        if left < 5.0:
            return {
                "ok": False,
                "skipped": True,
                "error": "skipped: suite time budget spent",
                "process": {
                    "wall_s": 0.0,
                    "cpu_s": 0.0,
                    "peak_rss_mb": 0.0,
                    "exit_status": None,
                    "timed_out": False,
                },
            }
        return run_child(spec, self.work, timeout_s=min(CHILD_TIMEOUT_S, left), env=env or self.env)

    def screen(
        self,
        catalog: Path,
        days: float,
        threshold_km: float,
        label: str,
        keep_rows=False,
        repeats=None,
        env=None,
    ) -> dict:
        spec = {
            "kind": "screen",
            "catalog": str(catalog),
            "days": days,
            "threshold_km": threshold_km,
            "start_jd": self.jd0,
            "start_fr": self.fr0,
            "repeats": repeats or self.cfg.max_repeats,
            "repeat_budget_s": self.cfg.repeat_budget_s,
            "keep_rows": keep_rows,
        }
        t0 = time.perf_counter()
        res = self.child(spec, env=env)
        self.log(f"  {label}: {_short(res)} ({time.perf_counter() - t0:.1f} s)")
        rec = {"label": label, "spec": spec, **res}
        self.results["runs"].append({k: v for k, v in rec.items() if k != "conjunctions"})
        if rec.get("ok") and env is None:
            self.known.setdefault((days, threshold_km, rec["objects"]), rec)
        return rec

    def get(self, path: Path, n: int, days: float, threshold_km: float, label: str) -> dict:
        """A screening run of these inputs: reused when the suite already has one."""
        key = (days, threshold_km, n)
        if key not in self.known:
            rec = self.screen(path, days, threshold_km, label)
            self.known[key] = rec
        return self.known[key]


def _short(res: dict) -> str:
    if not res.get("ok"):
        return "FAILED " + res.get("error", "")[:300]
    if "wall_s" in res and "conjunction_count" in res:
        return (
            f"{res['objects']} objects, wall {res['wall_s']:.2f} s, "
            f"{res['conjunction_count']} conjunctions, "
            f"peak {res['process']['peak_rss_mb']:.0f} MB"
        )
    return f"ok, process wall {res['process']['wall_s']:.1f} s"


def measure_compile(s: Suite) -> dict:
    """Numba compile time of the screening core: the suite's first run, on an empty cache."""
    s.log("numba compile time (empty cache)")
    tiny = s.subset(min(s.n, 300))
    rec = s.screen(tiny, 0.05, s.cfg.threshold_km, "compile", repeats=1)
    return {
        "ok": rec.get("ok", False),
        "compile_and_first_run_s": rec.get("warmup_s"),
        "error": rec.get("error"),
    }


def measure_propagation(s: Suite) -> dict:
    s.log("propagation throughput")
    n = min(s.n, s.cfg.prop_objects)
    path = s.catalog if n >= s.n else s.subset(n)
    spec = {
        "kind": "propagation",
        "catalog": str(path),
        "times": s.cfg.prop_times,
        "repeats": s.cfg.prop_repeats,
        "start_jd": s.jd0,
        "start_fr": s.fr0,
    }
    res = s.child(spec)
    s.log(f"  {_short(res)}")
    return res


def measure_headline(s: Suite) -> list[dict]:
    s.log("screening: full catalog, all vs all")
    return [
        s.get(s.catalog, s.n, d, s.cfg.threshold_km, f"full {d:g} d") for d in s.cfg.headline_days
    ]


def measure_scaling(s: Suite) -> dict:
    cfg = s.cfg
    get = s.get
    s.log("scaling in catalog size")
    size = []
    for f in cfg.size_fractions:
        n = max(2, int(round(f * s.n)))
        path = s.catalog if n >= s.n else s.subset(n)
        size.append(
            {
                "fraction": f,
                "objects": n,
                **_pick(get(path, n, cfg.size_days, cfg.threshold_km, f"size {f:g}")),
            }
        )
    s.log("scaling in span")
    span = [
        {"days": d, **_pick(get(s.catalog, s.n, d, cfg.threshold_km, f"span {d:g} d"))}
        for d in cfg.spans_days
    ]
    s.log("scaling in threshold")
    thr = [
        {"threshold_km": t, **_pick(get(s.catalog, s.n, cfg.threshold_days, t, f"thr {t:g}"))}
        for t in cfg.thresholds_km
    ]
    return {
        "size": {
            "days": cfg.size_days,
            "points": size,
            "exponent": fit_exponent([p["objects"] for p in size], [p.get("wall_s") for p in size]),
        },
        "span": {
            "points": span,
            "exponent": fit_exponent([p["days"] for p in span], [p.get("wall_s") for p in span]),
        },
        "threshold": {
            "days": cfg.threshold_days,
            "points": thr,
            "exponent": fit_exponent(
                [p["threshold_km"] for p in thr], [p.get("wall_s") for p in thr]
            ),
        },
    }


def _pick(rec: dict) -> dict:
    """The numbers of a screening run that tables and plots need."""
    if not rec.get("ok"):
        return {"ok": False, "error": rec.get("error")}
    return {
        "ok": True,
        "wall_s": rec["wall_s"],
        "cpu_s": rec["cpu_s"],
        "wall_runs_s": rec["wall_runs_s"],
        "peak_rss_mb": rec["process"]["peak_rss_mb"],
        "conjunctions": rec["conjunction_count"],
        "timings_s": rec.get("timings_s", {}),
        "warmup_s": rec.get("warmup_s"),
        "load_s": rec.get("load_s"),
    }


def measure_baselines(s: Suite) -> list[dict]:
    cfg = s.cfg
    out = []
    for f in cfg.baseline_fractions:
        n = max(2, int(round(f * s.n)))
        path = s.catalog if n >= s.n else s.subset(n)
        s.log(f"baselines on {n} objects, {cfg.baseline_days:g} d")
        ours = s.screen(path, cfg.baseline_days, cfg.threshold_km, f"ours on {n}", keep_rows=True)
        spec = {
            "kind": "baselines",
            "catalog": str(path),
            "days": cfg.baseline_days,
            "threshold_km": cfg.threshold_km,
            "start_jd": s.jd0,
            "start_fr": s.fr0,
            "step_s": cfg.baseline_step_s,
            "brute_step_stride": cfg.brute_step_stride,
        }
        base = s.child(spec)
        s.log(f"  baselines: {_short(base)}")
        entry = {
            "objects": n,
            "fraction": f,
            "days": cfg.baseline_days,
            "ours": _pick(ours),
            "baselines": {k: v for k, v in base.items() if k != "conjunctions"},
        }
        if ours.get("ok") and base.get("ok"):
            rc = recall(
                ours["conjunctions"],
                base["conjunctions"],
                s.jd0,
                s.fr0,
                cfg.threshold_km,
                cfg.baseline_days * 86400.0,
            )
            # The three methods share candidates (checked) and so conjunctions.
            entry["recall"] = {m: rc for m in base["total_s"]}
            entry["speedup_wall"] = {m: t / ours["wall_s"] for m, t in base["total_s"].items()}
            entry["speedup_cpu"] = {
                m: t / ours["cpu_s"] for m, t in base["total_s"].items() if ours["cpu_s"] > 0
            }
        out.append(entry)
    return out


def measure_tomorrow(s: Suite) -> list[dict]:
    cfg = s.cfg
    s.log(f"today's catalog at the synthetic span ({cfg.synthetic_days:g} d)")
    today = s.get(s.catalog, s.n, cfg.synthetic_days, cfg.threshold_km, "today")
    out = [
        {
            "objects": s.n,
            "days": cfg.synthetic_days,
            "recipe": {
                "base": str(s.catalog),
                "seed": None,
                "objects": s.n,
                "real": s.n,
                "shell_objects": 0,
                "clones": 0,
                "shells": [],
            },
            "today": True,
            **_pick(today),
        }
    ]
    for n in cfg.synthetic_sizes:
        path = s.work / f"synthetic-{n}.3le"
        s.log(f"synthetic catalog of {n} objects")
        if s.remaining_s() < 5.0:
            out.append(
                {
                    "objects": n,
                    "days": cfg.synthetic_days,
                    "ok": False,
                    "recipe": None,
                    "error": "skipped: suite time budget spent",
                }
            )
            continue
        recipe = synthetic.synthetic_3le(s.catalog, n, SEED, path)
        rec = s.screen(path, cfg.synthetic_days, cfg.threshold_km, f"synthetic {n}", repeats=1)
        out.append({"objects": n, "days": cfg.synthetic_days, "recipe": recipe, **_pick(rec)})
        path.unlink(missing_ok=True)
    return out


def run_suite(
    out_dir,
    quick: bool = False,
    catalog=None,
    limit: int | None = None,
    log=None,
    readme=None,
    budget_s: float | None = None,
) -> dict:
    """Run the suite; write results.json, results.md and plots into ``out_dir``; return results.

    ``catalog``: 3LE file (default ``$SSA_DATA/catalog-2024-07-05.3le``); ``limit``: use a
    seeded subset of that many objects as the "full catalog" (tiny runs for tests);
    ``readme``: a markdown file whose results block is replaced by the new tables;
    ``budget_s``: stop starting new runs after this many seconds (skipped runs are
    recorded as such). results.json is rewritten after every stage, so an interrupted
    suite still leaves what it measured.
    """
    from ssa.data import data_file
    from ssa.outputs import write_text_atomic  # each file complete or absent

    from . import report

    log = log or (lambda msg: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = QUICK if quick else FULL
    catalog = Path(catalog) if catalog else data_file(DEFAULT_CATALOG)
    t_start = time.perf_counter()

    def save(res, final=False):
        res["suite_wall_s"] = time.perf_counter() - t_start
        res["complete"] = final
        write_text_atomic(out_dir / "results.json", json.dumps(res, indent=1, default=float))

    with tempfile.TemporaryDirectory(prefix="ssa-bench-") as tmp:
        work = Path(tmp)
        if limit:
            cfg = _limited(cfg, limit)
            catalog = synthetic.subset_3le(catalog, limit, SEED, work / f"limit-{limit}.3le")
        s = Suite(cfg, catalog, work, log, budget_s=budget_s)
        res = s.results
        res["suite"] = cfg.name
        res["config"] = asdict(cfg)
        res["catalog"] = {
            "path": str(catalog),
            "objects": s.n,
            "start_jd": s.jd0,
            "start_fr": s.fr0,
        }
        res["machine"] = machine_info()
        res["compile"] = measure_compile(s)
        res["propagation"] = measure_propagation(s)
        save(res)
        headline = measure_headline(s)
        res["headline"] = [
            {
                "days": r["spec"]["days"],
                "objects": r.get("objects"),
                **_pick(r),
                "counts": r.get("counts"),
                "run_peak_memory_mb": r.get("run_peak_memory_mb"),
            }
            for r in headline
        ]
        save(res)
        res["baselines"] = measure_baselines(s)
        save(res)
        res["tomorrow"] = measure_tomorrow(s)
        res["tomorrow_exponent"] = fit_exponent(
            [p["objects"] for p in res["tomorrow"]], [p.get("wall_s") for p in res["tomorrow"]]
        )
        save(res)
        res["scaling"] = measure_scaling(s)
        res["summary"] = summarise(res)
        res["machine"]["load_avg_end"] = os.getloadavg()
        save(res, final=True)
    md = report.markdown(res)
    write_text_atomic(out_dir / "results.md", md)
    res["plots"] = report.plots(res, out_dir)
    if readme:
        report.update_readme(Path(readme), md)
    return res


def summarise(res: dict) -> dict:
    """Headline numbers: screening walls, SatrecArray ratio, speed-ups, exponents, 200k run."""
    out: dict = {}
    prop = res.get("propagation", {})
    sa = prop.get("satrec_array", {}).get("props_per_s") if prop.get("ok") else None
    for h in res.get("headline", []):
        if h.get("ok"):
            out[f"screen_{h['days']:g}d_wall_s"] = h["wall_s"]
            if sa:
                # Seconds SatrecArray needs just to propagate the same objects at 1-min steps.
                steps = int(round(h["days"] * 1440)) + 1
                out[f"screen_{h['days']:g}d_over_satrec_array_1min"] = h["wall_s"] / (
                    h["objects"] * steps / sa
                )
    ours = prop.get("ours", {}) if prop.get("ok") else {}
    if sa and ours.get("props_per_s"):
        out["propagation_ours_over_satrec_array"] = ours["props_per_s"] / sa
    hy = prop.get("heyoka", {}) if prop.get("ok") else {}
    sal = prop.get("satrec_array_leo", {})
    if hy.get("props_per_s") and sal.get("props_per_s"):
        out["propagation_heyoka_over_satrec_array_leo"] = hy["props_per_s"] / sal["props_per_s"]
    for b in res.get("baselines", []):
        if "speedup_wall" in b:
            out[f"speedup_wall_{b['objects']}_objects"] = b["speedup_wall"]
    sc = res.get("scaling", {})
    for k in ("size", "span", "threshold"):
        if sc.get(k, {}).get("exponent") is not None:
            out[f"exponent_{k}"] = sc[k]["exponent"]
    for t in res.get("tomorrow", []):
        if t.get("ok"):
            out[f"synthetic_{t['objects']}_wall_s"] = t["wall_s"]
            out[f"synthetic_{t['objects']}_peak_rss_mb"] = t["peak_rss_mb"]
    return out


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
