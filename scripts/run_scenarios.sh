#!/usr/bin/env bash
# Run the shipped scenarios (wall and CPU time), keep their summaries and figures in scenarios/results/
# (committed; the full outputs with per-event CSVs and decisions.npz stay in results/,
# not committed), record how long each took and the machine load in
# scenarios/results/RUNS.md, and pool the 30-day run with the snapshot sweep into
# scenarios/results/pooled.json.
# Usage: SSA_DATA=../shared/catalogs bash scripts/run_scenarios.sh [scenario ...]
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(pooled-observations-30d pooled-observations-snapshots
  pooled-observations alerts-only radar-outage member-leaves eu-japan-bilateral status-quo)
mkdir -p results scenarios/results
load() { cut -d' ' -f1 /proc/loadavg; }
for s in "${names[@]}"; do
  start=$(date +%s)
  l0=$(load)
  /usr/bin/time -f "%U %S" -o results/.cpu-$s .venv/bin/ssa scenario run "scenarios/$s.toml" \
      --out "results/$s" --screening-cache results/.screening-cache --quiet
  end=$(date +%s)
  cpu=$(awk '{printf "%.0f", $1 + $2}' "results/.cpu-$s")
  rm -rf "scenarios/results/$s" && mkdir -p "scenarios/results/$s"
  # One run, or one sub-folder per sweep run (start/snapshot/seed).
  for d in "results/$s" "results/$s"/*/; do
    [ -f "$d/summary.json" ] || continue
    rel=${d#"results/$s"}; rel=${rel%/}
    mkdir -p "scenarios/results/$s/$rel"
    cp "$d"/summary.json "$d"/*.png "scenarios/results/$s/$rel/"
  done
  echo "| $s | \`ssa scenario run scenarios/$s.toml --out results/$s --screening-cache results/.screening-cache\` | $((end - start)) s (CPU $cpu s) | $l0 -> $(load) | $(date -u +%Y-%m-%dT%H:%MZ) |" >> scenarios/results/RUNS.md
done
if [ -d results/pooled-observations-30d ] && [ -d results/pooled-observations-snapshots ]; then
  .venv/bin/ssa scenario pool results/pooled-observations-30d results/pooled-observations-snapshots \
      --out scenarios/results/pooled.json > scenarios/results/pooled.md
fi
