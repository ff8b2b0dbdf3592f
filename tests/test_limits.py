"""Resource limits: huge garbage files stream with bounded memory and report counts,
one giant line is refused, 10,000 duplicates of one object keep one, and a disk-full
error (a file-size limit via resource.setrlimit in a subprocess) gives a clear message
and leaves the previous output intact."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

from ssa.catalog import MAX_KEPT_PROBLEMS, Catalog
from ssa.errors import InputFileError
from ssa.io import MAX_LINE_CHARS

CATALOG = "catalog-2024-07-05.3le"
GARBAGE_LINES = 1_000_000  # CI size; benchmarks/fuzz.py --big runs 10 million
# Peak memory a load may add over a bare import of ssa.catalog (same run), for a
# 1-million-line garbage file (~50 MB): kept problems (<= 10,000) plus one line.
# Reading the file whole and keeping every problem would add > 500 MB.
EXTRA_MEMORY_BOUND_MB = 64.0
FILE_SIZE_LIMIT_BYTES = 512  # RLIMIT_FSIZE of the disk-full subprocess (the CSV header is longer)


def _first_tle(shared_file) -> list[str]:
    return shared_file(CATALOG).read_text().splitlines()[:3]


@pytest.mark.slow
def test_million_line_garbage_streams_with_bounded_memory(tmp_path, shared_file):
    path = tmp_path / "garbage.3le"
    tle = _first_tle(shared_file)
    with open(path, "w") as fh:
        for start in range(0, GARBAGE_LINES, 100_000):
            fh.write(
                "".join(
                    f"garbage {k:07d} this is not an element set\n"
                    for k in range(start, min(start + 100_000, GARBAGE_LINES))
                )
            )
        fh.write("\n".join(tle) + "\n")  # one good object at the very end
    # One fresh Python: its peak memory after importing ssa.catalog, then after the load
    # (ru_maxrss only grows: the difference is what the load added at its peak).
    code = (
        "import json, resource\nfrom ssa.catalog import Catalog\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"c = Catalog.load({str(path)!r})\nr = c.load_report\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps([len(c), r.read, r.loaded, r.skipped, len(r.problems), "
        "r.problems_not_kept, r.by_reason(), (peak - base) / 1024.0]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, read, loaded, skipped, kept, not_kept, by_reason, extra_mb = json.loads(out.stdout)
    assert (n, loaded, skipped) == (1, 1, GARBAGE_LINES)
    assert read == loaded + skipped
    assert kept == MAX_KEPT_PROBLEMS and kept + not_kept == skipped
    assert sum(g["count"] for g in by_reason) == skipped
    assert by_reason[0]["first"] == f"{path}:1"
    assert extra_mb < EXTRA_MEMORY_BOUND_MB, f"load added {extra_mb:.0f} MB"


def test_giant_line_is_refused_with_file_and_line(tmp_path, shared_file):
    path = tmp_path / "one-line.3le"
    tle = _first_tle(shared_file)
    path.write_text("\n".join(tle) + "\n" + "x" * (MAX_LINE_CHARS + 10) + "\n")
    with pytest.raises(InputFileError) as info:
        Catalog.load(path)
    assert info.value.line == 4 and info.value.path == str(path)
    assert "longer than" in info.value.reason


def test_ten_thousand_duplicates_keep_one(tmp_path, shared_file):
    tle = _first_tle(shared_file)
    path = tmp_path / "dups.3le"
    path.write_text(("\n".join(tle) + "\n") * 10_000)
    catalog = Catalog.load(path)
    r = catalog.load_report
    assert len(catalog) == 1 and catalog.norad_id[0] == 5
    assert (r.read, r.loaded, r.duplicates_dropped, r.skipped) == (10_000, 1, 9_999, 0)
    # Ties keep the later record.
    assert catalog.source[0] == f"{path}:{3 * 9_999 + 1}"


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT_BYTES, FILE_SIZE_LIMIT_BYTES))


def test_disk_full_keeps_previous_output(tmp_path, shared_file):
    lines = shared_file(CATALOG).read_text().splitlines()[:60]  # 20 objects
    cat = tmp_path / "small.3le"
    cat.write_text("\n".join(lines) + "\n")
    out = tmp_path / "screen"
    cmd = [
        sys.executable,
        "-m",
        "ssa",
        "screen",
        str(cat),
        "--days",
        "0.05",
        "--threads",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    # The previous, complete output, made in this process (a second Python start costs
    # more than the run); it also fills numba's cache, so the limited run below fails
    # where the issue means: writing the results.
    from ssa.cli import main

    assert main(cmd[3:]) == 0
    previous = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert json.loads(previous["run.json"])["complete"] is True
    proc = subprocess.run(
        cmd, capture_output=True, text=True, preexec_fn=_limit_file_size, timeout=600
    )
    assert proc.returncode == 1, proc.stderr
    assert "disk full or file-size limit" in proc.stderr
    assert "previous output" in proc.stderr and "Traceback" not in proc.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == previous
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_output_folder_complete_and_rerunnable(tmp_path, shared_file):
    """A normal run: run.json says complete, and the same command run twice works."""
    from ssa.cli import main

    lines = shared_file(CATALOG).read_text().splitlines()[:60]
    cat = tmp_path / "small.3le"
    cat.write_text("\n".join(lines) + "\n")
    out = tmp_path / "screen"
    argv = ["screen", str(cat), "--days", "0.05", "--threads", "1", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    first = json.loads((out / "run.json").read_text())
    assert first["complete"] is True and list(first)[-1] == "complete"
    (out / "stale.txt").write_text("from an older run")
    assert main(argv) == 0
    assert not (out / "stale.txt").exists()  # the folder was replaced as a whole
    assert json.loads((out / "run.json").read_text())["complete"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["screen", "small.3le"]


def test_atomic_file_failure_keeps_old_file(tmp_path):
    from ssa.outputs import atomic_file

    path = tmp_path / "results.json"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_file(path) as fh:
            fh.write("half")
            raise RuntimeError("stopped")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_failed_run_leaves_no_folder_it_created(tmp_path):
    """An interrupted or failed run into a new nested path leaves nothing behind: not
    the output, not the folders created to hold it; folders that existed stay."""
    from ssa.outputs import atomic_folder

    target = tmp_path / "new" / "deeper" / "screen"
    with pytest.raises(KeyboardInterrupt):
        with atomic_folder(target) as tmp:
            (tmp / "conjunctions.csv").write_text("half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    # A created folder someone else wrote into meanwhile is kept.
    with pytest.raises(RuntimeError):
        with atomic_folder(target):
            (tmp_path / "new" / "theirs.txt").write_text("not ours")
            raise RuntimeError("stopped")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["theirs.txt"]
