"""The streamed table (``screen(table_csv=...)``, the CLI's CSV path) is the in-memory
table, byte for byte, whatever the chunk size.

Real data: a real subset of the 2024-07-05 catalogue (the dense 520-580 km shell),
screened by the library and by ``ssa screen`` with chunks far smaller than the table.
"""

from __future__ import annotations

import csv
import filecmp
import json
from pathlib import Path

import pytest
from sgp4.api import WGS72, Satrec

from ssa.catalog import Catalog
from ssa.cli import main
from ssa.screening import api, screen

CATALOG = "catalog-2024-07-05.3le"
SATCAT = "satcat-2025-03.csv.gz"
DAYS = 0.5
THRESHOLD_KM = 10.0
SMALL_CHUNK_ROWS = 37  # many chunks: the table has hundreds of rows
SHELL_KM = (520.0, 580.0)
EVERY = 8  # every 8th record of the shell: a few hundred objects


def _write_subset(src: Path, dst: Path) -> int:
    """Write every EVERY-th 3LE record of the shell's objects to dst; return the count."""
    lines = src.read_text().splitlines()
    out, seen = [], 0
    for i in range(0, len(lines) - 2, 3):
        sat = Satrec.twoline2rv(lines[i + 1], lines[i + 2], WGS72)
        perigee, apogee = sat.altp * sat.radiusearthkm, sat.alta * sat.radiusearthkm
        if perigee > SHELL_KM[0] and apogee < SHELL_KM[1]:
            if seen % EVERY == 0:
                out += lines[i : i + 3]
            seen += 1
    dst.write_text("\n".join(out) + "\n")
    return len(out) // 3


@pytest.fixture(scope="module")
def subset(shared_file, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "shell.3le"
    assert _write_subset(shared_file(CATALOG), path) > 300
    return path


def test_streamed_table_equals_the_in_memory_one(subset, tmp_path):
    cat = Catalog.load(subset)
    kw = {"days": DAYS, "threshold_km": THRESHOLD_KM, "threads": 1}
    whole = screen(cat, **kw)
    whole.write(tmp_path / "memory")
    streamed = screen(cat, table_csv=tmp_path / "s.csv", chunk_rows=SMALL_CHUNK_ROWS, **kw)
    assert len(whole) > 10 * SMALL_CHUNK_ROWS
    assert len(streamed) == 0  # nothing held: the rows went to the file
    assert streamed.run["counts"] == whole.run["counts"]
    assert streamed.run["table"]["chunk_rows"] == SMALL_CHUNK_ROWS
    paths = streamed.write(tmp_path / "streamed")
    assert paths["csv"] == tmp_path / "streamed" / "conjunctions.csv"
    assert filecmp.cmp(tmp_path / "memory" / "conjunctions.csv", paths["csv"], shallow=False)


def test_cli_streams_csv_byte_identical_with_risk_columns(
    subset, shared_file, tmp_path, monkeypatch
):
    """``ssa screen`` (CSV only: streamed, Pc filled per chunk) vs ``--format csv,json``
    (the whole table in memory): the same conjunctions.csv."""
    monkeypatch.setattr(api, "STREAM_CHUNK_ROWS", SMALL_CHUNK_ROWS)
    common = [str(subset), "--satcat", str(shared_file(SATCAT)), "--days", str(DAYS)]
    common += ["--threshold-km", str(THRESHOLD_KM), "--threads", "1", "--quiet"]
    assert main(["screen", *common, "--out", str(tmp_path / "s")]) == 0
    assert main(["screen", *common, "--format", "csv,json", "--out", str(tmp_path / "m")]) == 0
    a, b = tmp_path / "s" / "conjunctions.csv", tmp_path / "m" / "conjunctions.csv"
    with open(a, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 10 * SMALL_CHUNK_ROWS
    assert all(r["PC"] != "" and r["MAX_PROB"] != "" for r in rows)  # risk per chunk
    assert filecmp.cmp(a, b, shallow=False)
    run = json.loads((tmp_path / "s" / "run.json").read_text())
    assert run["table"]["chunk_rows"] == SMALL_CHUNK_ROWS
    assert run["formats"] == ["csv"]
    assert "table" not in json.loads((tmp_path / "m" / "run.json").read_text())
