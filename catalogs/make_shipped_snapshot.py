"""Rebuild the catalogue snapshot that ships inside the package (ssa/resources/).

    python catalogs/make_shipped_snapshot.py ../shared/catalogs

Writes, byte-reproducibly (gzip level 9, no timestamp in the gzip header):
- ``ssa/resources/catalog-2024-11-01.omm.csv.gz``: the shared CelesTrak on-orbit
  catalogue of 2024-11-01 (OMM CSV), unchanged apart from the compression;
- ``ssa/resources/satcat-2024-11-01.csv.gz``: one SATCAT row per object of that
  catalogue (``NORAD_CAT_ID, OBJECT_NAME, OBJECT_TYPE, OWNER, RCS_SIZE``), joined
  from the shared CelesTrak SATCAT of 2025-03 (type, owner) and the Space-Track
  LEO SATCAT of 2025-03 (RCS size class, LEO objects only). The columns are the
  ones ``ssa.io.satcat`` reads, so the companion loads as any SATCAT does.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

CATALOG = "catalog-2024-11-01.omm.csv"
SATCAT = "satcat-2025-03.csv.gz"
RCS = "satcat-spacetrack-leo-onorbit-2025-03.csv"
OUT = Path(__file__).resolve().parent.parent / "ssa" / "resources"
COLUMNS = ["NORAD_CAT_ID", "OBJECT_NAME", "OBJECT_TYPE", "OWNER", "RCS_SIZE"]


def _gzip(data: bytes, path: Path) -> None:
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as fh,
    ):
        fh.write(data)


def main(shared: Path) -> None:
    catalog = (shared / CATALOG).read_bytes()
    ids = [int(row["NORAD_CAT_ID"]) for row in csv.DictReader(io.StringIO(catalog.decode()))]
    with gzip.open(shared / SATCAT, "rt", newline="") as fh:
        satcat = {int(r["NORAD_CAT_ID"]): r for r in csv.DictReader(fh)}
    with open(shared / RCS, newline="") as fh:
        rcs = {int(r["NORAD_CAT_ID"]): r["RCS_SIZE"] for r in csv.DictReader(fh)}
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for norad in sorted(set(ids)):
        entry = satcat.get(norad)
        if entry is not None:
            writer.writerow(
                [
                    norad,
                    entry["OBJECT_NAME"],
                    entry["OBJECT_TYPE"],
                    entry["OWNER"],
                    rcs.get(norad, ""),
                ]
            )
    OUT.mkdir(parents=True, exist_ok=True)
    _gzip(catalog, OUT / (CATALOG + ".gz"))
    _gzip(text.getvalue().encode(), OUT / "satcat-2024-11-01.csv.gz")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/catalogs"))
