"""Build ssa/scenario/data/coastlines.npz: world coastlines for the offline sensor map.

Source: the GLOBE 1 km land mask (NOAA, public domain) shipped by the PyPI package
``global-land-mask`` (MIT). The mask is block-averaged to STEP_DEG and the 0.5
land-fraction contour is kept as polylines (lon, lat in degrees, float32).
Run once (needs ``pip install global-land-mask matplotlib``):

    python scripts/make_coastlines.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STEP_DEG = 0.5
MIN_POINTS = 8  # drop islands smaller than a few grid cells


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from global_land_mask import globe

    mask = globe._mask  # (lat 21600 from +90 down, lon 43200 from -180)
    k = int(round(STEP_DEG * mask.shape[0] / 180.0))
    n_lat, n_lon = mask.shape[0] // k, mask.shape[1] // k
    frac = np.zeros((n_lat, n_lon), dtype=np.float32)
    for i in range(k):  # block average without a full float copy of the mask
        for j in range(k):
            frac += mask[i::k, j::k][:n_lat, :n_lon]
    frac /= k * k
    lat = 90.0 - (np.arange(n_lat) + 0.5) * STEP_DEG
    lon = -180.0 + (np.arange(n_lon) + 0.5) * STEP_DEG
    fig, ax = plt.subplots()
    cs = ax.contour(lon, lat, frac, levels=[0.5])
    lines = [p for p in cs.allsegs[0] if len(p) >= MIN_POINTS]
    lengths = np.array([len(p) for p in lines], dtype=np.int64)
    points = np.concatenate(lines).astype(np.float32)
    out = Path(__file__).resolve().parents[1] / "ssa" / "scenario" / "data" / "coastlines.npz"
    np.savez_compressed(out, points=points, lengths=lengths, step_deg=STEP_DEG)
    print(f"{out}: {len(lines)} polylines, {len(points)} points")


if __name__ == "__main__":
    main()
