"""``ssa breakup`` end to end: the issue's command line, 3LE and OMM output that loads
back, printed counts and mass budget, and bad input that writes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from ssa.catalog import Catalog
from ssa.cli import main

TIME = "2024-11-01T06:00:00Z"


@pytest.fixture(scope="module")
def omm_catalog(shared_file, tmp_path_factory):
    """The real 2024-11-01 catalogue's first 2,000 rows plus NOAA 20 and STARLINK-1008,
    as an OMM CSV: a quick load for each command."""
    rows = shared_file("catalog-2024-11-01.omm.csv").read_text().splitlines()
    keep = rows[:2001] + [r for r in rows[2001:] if ",43013," in r or ",44714," in r]
    path = tmp_path_factory.mktemp("cat") / "subset.csv"
    path.write_text("\n".join(keep) + "\n")
    return path


def test_asat_collision_3le(omm_catalog, tmp_path, capsys):
    out = tmp_path / "frag.3le"
    code = main(
        [
            "breakup",
            str(omm_catalog),
            "--parent",
            "43013",
            "--time",
            TIME,
            "--collision",
            "--impactor-mass-kg",
            "20",
            "--impact-speed-km-s",
            "9.5",
            "--parent-mass-kg",
            "900",
            "--seed",
            "2",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "catastrophic (>= 40 J/g)" in text and "fragments: >= 10 cm" in text
    assert "mass budget (kg): parents 920.000" in text
    frag = Catalog.load(out, strict=True)
    assert set(frag.name) == {"NOAA 20 (JPSS-1) DEB"}
    n10 = int(text.split(">= 10 cm ")[1].split()[0])
    assert len(frag) == int(text.split("wrote ")[1].split()[0])
    # all but the few large pieces of the mass rule (whose size follows from their mass)
    assert n10 <= len(frag) <= n10 + 8
    assert frag.norad_id.max() <= 339_999


def test_explosion_omm_with_small_fragments(omm_catalog, tmp_path, capsys):
    out = tmp_path / "frag.csv"
    code = main(
        [
            "breakup",
            str(omm_catalog),
            "--parent",
            "43013",
            "--time",
            TIME,
            "--explosion",
            "--parent-mass-kg",
            "300",
            "--min-size-m",
            "0.01",
            "--omm",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0 and ">= 1 cm" in text and "1 large pieces" in text
    frag = Catalog.load(out, strict=True)
    n1 = int(text.split(">= 1 cm ")[1].split()[0])
    assert len(frag) == n1 == int(text.split("wrote ")[1].split()[0])
    jd, fr = frag.epoch_jd[0], frag.epoch_fr[0]
    err, _, _ = frag.satrec_array().sgp4(np.array([jd]), np.array([fr + 1.0]))
    assert (err == 0).mean() > 0.95  # almost all orbit for a day at least


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--parent", "99", "--explosion", "--parent-mass-kg", "10"], "99 is not in the catalogue"),
        (["--parent", "43013", "--explosion", "--parent-mass-kg", "-1"], "positive"),
        (
            ["--parent", "43013", "--explosion", "--parent-mass-kg", "10", "--min-size-m", "0"],
            "positive",
        ),
        (["--parent", "43013", "--collision", "--parent-mass-kg", "10"], "--impactor"),
        (
            [
                "--parent",
                "43013",
                "--collision",
                "--parent-mass-kg",
                "10",
                "--impactor-mass-kg",
                "1",
                "--impact-speed-km-s",
                "-3",
            ],
            "positive",
        ),
        (["--parent", "43013", "--explosion", "--masses", "/nonexistent/cara.csv"], "not found"),
    ],
)
def test_bad_input_writes_nothing(omm_catalog, tmp_path, capsys, extra, match):
    out = tmp_path / "frag.3le"
    code = main(["breakup", str(omm_catalog), "--time", TIME, "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 1 and match in err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_missing_cara_mass_asks_for_the_option(omm_catalog, shared_file, tmp_path, capsys):
    out = tmp_path / "frag.3le"
    # 44714 (STARLINK-1008) has no mass in the CARA table (DISCOS rows are blank)
    code = main(
        [
            "breakup",
            str(omm_catalog),
            "--parent",
            "44714",
            "--time",
            TIME,
            "--explosion",
            "--masses",
            str(shared_file("hbr-mass-cara-2024-11-01.csv")),
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "give --parent-mass-kg KG" in err and not out.exists()


def test_time_outside_the_element_set_range(omm_catalog, tmp_path, capsys):
    out = tmp_path / "frag.3le"
    code = main(
        [
            "breakup",
            str(omm_catalog),
            "--parent",
            "43013",
            "--time",
            "2025-03-01T00:00:00",
            "--explosion",
            "--parent-mass-kg",
            "10",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "within +-30 days" in err and not out.exists()
    code = main(
        [
            "breakup",
            str(omm_catalog),
            "--parent",
            "43013",
            "--time",
            "yesterday",
            "--explosion",
            "--parent-mass-kg",
            "10",
            "--out",
            str(out),
        ]
    )
    assert code == 1 and "ISO 8601" in capsys.readouterr().err
