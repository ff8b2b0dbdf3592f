#!/usr/bin/env bash
# Run the shipped scenarios, keep their summaries and figures in scenarios/results/
# (committed; the full outputs with per-event CSVs stay in results/, not committed)
# and record how long each took in scenarios/results/RUNS.md.
# Usage: SSA_DATA=../shared/catalogs bash scripts/run_scenarios.sh [scenario ...]
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(pooled-observations alerts-only radar-outage member-leaves eu-japan-bilateral status-quo)
mkdir -p results scenarios/results
for s in "${names[@]}"; do
  start=$(date +%s)
  .venv/bin/ssa scenario run "scenarios/$s.toml" --out "results/$s" \
      --screening-cache results/.screening-cache --quiet
  end=$(date +%s)
  rm -rf "scenarios/results/$s" && mkdir -p "scenarios/results/$s"
  cp "results/$s"/summary.json "results/$s"/*.png "scenarios/results/$s/"
  echo "| $s | \`ssa scenario run scenarios/$s.toml --out results/$s --screening-cache results/.screening-cache\` | $((end - start)) s | $(date -u +%Y-%m-%dT%H:%MZ) |" >> scenarios/results/RUNS.md
done
