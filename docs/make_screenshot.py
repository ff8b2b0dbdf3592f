"""Regenerate docs/report-screenshot.png from a real screening and report.

    SSA_DATA=../shared/catalogs .venv/bin/python docs/make_screenshot.py

Screens the dense 800-850 km, > 95 deg shell of the 2024-07-05 catalog for one
day with ``ssa screen``, writes the report with ``ssa report`` and photographs
the top of index.html in headless Chromium (Debian packages chromium and
chromium-driver). Work files go to a temporary folder, printed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from sgp4.api import WGS72, Satrec

from ssa.cli import main as ssa_main
from ssa.data import data_file

HERE = Path(__file__).resolve().parent
CATALOG = "catalog-2024-07-05.3le"
SATCAT = "satcat-2025-03.csv.gz"
SHELL_PERIGEE_MIN_KM = 800.0
SHELL_APOGEE_MAX_KM = 850.0
SHELL_INCLINATION_MIN_DEG = 95.0
WINDOW_PX = (1280, 1700)  # header, overview figures and the table's first rows
SCALE = 0.6  # a small image for the README


def write_shell(src: Path, dst: Path) -> int:
    """Write the 3LE records of the shell to ``dst`` and return how many."""
    lines = src.read_text().splitlines()
    out = []
    for i in range(0, len(lines) - 2, 3):
        sat = Satrec.twoline2rv(lines[i + 1], lines[i + 2], WGS72)
        if (
            sat.altp * sat.radiusearthkm > SHELL_PERIGEE_MIN_KM
            and sat.alta * sat.radiusearthkm < SHELL_APOGEE_MAX_KM
            and np.degrees(sat.inclo) > SHELL_INCLINATION_MIN_DEG
        ):
            out += lines[i : i + 3]
    dst.write_text("\n".join(out) + "\n")
    return len(out) // 3


def screenshot(index_html: Path, png: Path, size_px=WINDOW_PX) -> None:
    """Save a PNG of the top of ``index_html`` as headless Chromium renders it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="ssa-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={size_px[0]},{size_px[1]}",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        driver.get(index_html.resolve().as_uri())
        full = png.with_suffix(".full.png")
        if not driver.save_screenshot(str(full)):
            raise RuntimeError(f"chromium could not save {full}")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    from PIL import Image  # Pillow comes with matplotlib

    with Image.open(full) as img:
        small = img.convert("RGB").resize(
            (round(img.width * SCALE), round(img.height * SCALE)), Image.Resampling.LANCZOS
        )
    small.save(png, optimize=True)
    full.unlink()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "report-screenshot.png"))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ssa-report-shot-"))
    shell = work / "shell-800-850.3le"
    n = write_shell(data_file(CATALOG), shell)
    print(f"{n} objects in the shell", file=sys.stderr)
    status = ssa_main(
        [
            "screen",
            str(shell),
            "--satcat",
            str(data_file(SATCAT)),
            "--days",
            "1",
            "--out",
            str(work / "screen"),
        ]
    )
    if status:
        return status
    status = ssa_main(["report", str(work / "screen"), "--out", str(work / "report"), "--top", "5"])
    if status:
        return status
    screenshot(work / "report" / "index.html", Path(args.out))
    print(f"wrote {args.out} (work files in {work})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
