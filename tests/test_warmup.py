"""First-run compilation (ssa.screening.warmup, ``ssa warmup``) and the kernels it
changed: the warm-up compiles exactly the signatures a real screen uses, leaves no cold
group, and the row-range kernels (ssa.parallel) give the same bits on 1 and 2 threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from ssa.cli import main

# A subprocess, so the dispatchers start empty: run the warm-up groups in-process,
# snapshot every ssa dispatcher's signatures, run the real command, list what is new.
_NEW_SIGNATURES = r"""
import json, sys
import numba
from numba.core.registry import CPUDispatcher
from ssa.screening import warmup
import ssa.risk.pc, ssa.screening.csvtext, ssa.screening.kernels, ssa.screening.propagate
import ssa.screening.refine, ssa.screening.sgp4_numba
MODULES = [ssa.risk.pc, ssa.screening.csvtext, ssa.screening.kernels,
           ssa.screening.propagate, ssa.screening.refine, ssa.screening.sgp4_numba]
def snap():
    return {f"{m.__name__}.{k}": set(map(str, v.signatures)) for m in MODULES
            for k, v in vars(m).items() if isinstance(v, CPUDispatcher)}
warmup.warm_up(processes=1)
before = snap()
from ssa.cli import main
rc = main(sys.argv[1:])
after = snap()
new = {k: sorted(v - before.get(k, set())) for k, v in after.items() if v - before.get(k, set())}
print(json.dumps({"rc": rc, "new": new, "cold": warmup.cold_groups()}))
"""


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"), reason="nothing compiles"
)
def test_warm_up_compiles_every_signature_a_screen_uses(tmp_path):
    """The groups' tiny inputs have the exact argument types of a real run (the shipped
    catalogue with its SATCAT, every CSV column including Pc and MAX_PROB): running the
    command after them compiles nothing new, and no group is left cold."""
    from ssa.snapshot import shipped_catalog, shipped_satcat

    args = [
        "screen",
        str(shipped_catalog()),
        "--satcat",
        str(shipped_satcat()),
        "--primaries",
        "25544",
        "--days",
        "0.5",
        "--threshold-km",
        "50",
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _NEW_SIGNATURES, *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, NUMBA_NUM_THREADS="2"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["rc"] == 0
    rows = (tmp_path / "out" / "conjunctions.csv").read_text().splitlines()
    assert len(rows) > 1  # conjunctions found: refinement, Pc and the CSV all ran
    assert res["new"] == {}
    assert res["cold"] == []


def test_warmup_command(capsys):
    assert main(["warmup", "--processes", "1"]) == 0
    assert "numba kernels ready" in capsys.readouterr().out
    assert main(["warmup", "--processes", "0"]) == 1
    assert "--processes must be at least 1" in capsys.readouterr().err


def _with_threads(n, fn):
    prev = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        return fn()
    finally:
        numba.set_num_threads(prev)


def test_pc_and_csv_ranges_identical_on_1_and_2_threads():
    """The Pc kernels and the CSV assembly run as row ranges on threads: each row alone,
    so 1 and 2 threads give the same bits (and the same as csv.writer: test_csv_stream)."""
    from ssa.risk import pc
    from ssa.screening import csvtext

    rng = np.random.default_rng(7)
    n = 3000
    miss = np.stack([rng.uniform(0.01, 2.0, n), np.zeros(n)], axis=1)
    a = rng.uniform(0.01, 1.0, (n, 2, 2))
    cov = np.einsum("nij,nkj->nik", a, a)
    d, ar, hbr = rng.uniform(0.05, 1.0, n), rng.uniform(1.0, 20.0, n), rng.uniform(1, 30, n)
    cols = [rng.normal(size=n * 3), rng.uniform(1e-12, 1.0, n * 3), np.arange(n * 3)]
    specs = [("fixed", 3), ("sci", None), ("int", None)]

    def run():
        p, s = pc.pc_2d(miss, cov, 20.0)
        m, u = pc.max_pc_oriented(d, ar, hbr, closed_form=False)
        return p, s, m, u, csvtext.render_rows(cols, specs)

    one, two = _with_threads(1, run), _with_threads(2, run)
    for x, y in zip(one, two, strict=True):
        assert np.array_equal(x, y, equal_nan=True) if isinstance(x, np.ndarray) else x == y
    assert np.all((one[0] >= 0) & (one[0] <= 1)) and np.all(one[2] > 0)


def test_distinct_rows_against_lexsort():
    """refine._distinct_rows (short runs sorted in numba, long ones in numpy) orders rows
    by (satellite, time), ties by row, as numpy's lexsort, and numbers the distinct ones."""
    from ssa.screening import refine

    rng = np.random.default_rng(3)
    m = 5000
    sat = rng.integers(0, 5, m)  # few satellites: runs longer than 64 rows
    t = rng.integers(0, 40, m).astype(float) * 3.0  # repeated times
    key = refine._sort_key(sat, t)
    order = np.argsort(key, kind="stable")
    uniq, row, starts = refine._distinct_rows(order, key, sat, t)
    expect = np.lexsort((t, key))
    assert np.array_equal(order, expect)
    pairs = sorted(set(zip(sat.tolist(), t.tolist(), strict=True)))
    assert [(sat[u], t[u]) for u in uniq] == pairs
    assert all((sat[uniq[row[i]]], t[uniq[row[i]]]) == (sat[i], t[i]) for i in range(m))
    assert starts.size == len(set(sat.tolist())) + 1 and starts[-1] == uniq.size


_RO_SCRIPT = r"""
import os, ssa
from ssa.screening import csvtext
import numpy as np
print(os.environ.get("NUMBA_CACHE_DIR"), csvtext.render_rows([np.array([1.5])], [("fixed", 3)]))
"""


def _unshare_ok() -> bool:
    import shutil

    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_ok(), reason="needs root and mount namespaces (unshare -m)")
def test_read_only_install_and_home_fall_back_to_a_temporary_cache(tmp_path):
    """With the installed package and the home folder both read-only (bind-mounted
    read-only in a private mount namespace), numba has no cache folder and its
    cache=True kernels refuse to import; ssa then points NUMBA_CACHE_DIR at a per-user
    temporary folder and the kernels compile and run."""
    import ssa

    pkg = os.path.dirname(os.path.abspath(ssa.__file__))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), TMPDIR=str(tmp_path))
    cmd = (
        f"mount --bind {pkg} {pkg} && mount -o remount,bind,ro {pkg} && "
        f"mount --bind {home} {home} && mount -o remount,bind,ro {home} && "
        f'exec {sys.executable} -c "$0"'
    )
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", cmd, _RO_SCRIPT], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    cache_dir, text = proc.stdout.split(" ", 1)
    assert cache_dir == str(tmp_path / f"ssa-numba-cache-{os.getuid()}")
    assert "1.500" in text
    assert any(p.suffix == ".nbi" for p in (tmp_path / cache_dir).rglob("*"))
