#!/usr/bin/env bash
# Weight broadcast across processes: a ~103 MB model (preset bench-100m) published after every GRPO
# step and fetched by every silo of a 4-silo cluster on loopback (Redis clustering, separate
# processes): the learner's silo reads its own copy, the 3 others fetch it in 4 MB chunks with a
# SHA-256 check. The time a generator waits for a new version (timing/weights_wait_max_s, the
# slowest of the 4 slices) is set against raw loopback TCP delivering the same bytes to 3 receivers,
# measured in the same script. Ratio = raw time / broadcast time (1.0 = as fast as bare sockets).
# usage: benchmarks/broadcast.sh [steps]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-8}"
work="$(mktemp -d)"
export ROLLOUT_CLUSTER_DIR="$work/cluster" ROLLOUT_RUNS="$work/runs" ROLLOUT_DEVICES=cpu
trap '"$root/cluster/local-cluster.sh" down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
dotnet build "$root/benchmarks/RolloutCluster.Benchmarks" -c Release -nologo -v quiet >/dev/null
"$root/rollout" --help >/dev/null   # builds the CLI before four silos start from it

"$root/cluster/local-cluster.sh" up 4 >/dev/null
connection="$(cat "$ROLLOUT_CLUSTER_DIR/connection")"
cat > "$work/broadcast.yaml" <<YAML
name: broadcast
seed: 3
model: { preset: bench-100m, init_seed: 1, threads: 1 }
task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 10 }
rewards: [ { name: language, weight: 1.0 } ]
stages:
  - { name: rl, kind: grpo, steps: $steps, prompts_per_step: 4, group_size: 4, sampling: { max_new_tokens: 4 }, optimizer: { lr: 1.0e-6 } }
YAML
"$root/rollout" submit "$work/broadcast.yaml" --cluster "$connection" --run-directory "$work/runs/broadcast" >/dev/null
"$root/rollout" watch broadcast --cluster "$connection" >/dev/null
"$root/cluster/local-cluster.sh" down >/dev/null

raw="$(dotnet "$root/benchmarks/RolloutCluster.Benchmarks/bin/Release/net10.0/RolloutCluster.Benchmarks.dll" loopback-tcp --megabytes 103 --receivers 3 --rounds 5)"
python3 - "$work/runs/broadcast/metrics.jsonl" "$raw" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"kind":"train"' in l]
raw = json.loads(sys.argv[2])
# Step 1 fetches version 0 while every silo is still warming up (JIT, first replica): reported, not
# counted. A step that follows one without an update (no reward signal) reuses the cached version.
waits = [r["timing/weights_wait_max_s"] for prev, r in zip(rows, rows[1:]) if r["batch/weights_version"] != prev["batch/weights_version"]]
if not waits: sys.exit("no step published a new version; nothing measured")
median = statistics.median(waits)
print(json.dumps({"scenario": "weight_broadcast", "silos": 4, "remote_silos": 3, "steps": len(rows),
                  "first_step_wait_s": round(rows[0]["timing/weights_wait_max_s"], 3),
                  "broadcast_wait_median_s": round(median, 3), "broadcast_wait_min_s": round(min(waits), 3),
                  "raw_tcp_median_s": raw["median_s"], "raw_tcp_best_s": raw["best_s"],
                  "ratio_raw_over_broadcast": round(raw["median_s"] / median, 2)}))
PY
