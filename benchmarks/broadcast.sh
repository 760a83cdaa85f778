#!/usr/bin/env bash
# Weight broadcast across processes: a ~103 MB model (preset bench-100m) published after every GRPO
# step and fetched by every silo of a 4-silo cluster on loopback (Redis clustering, separate
# processes): the learner's silo shares its own buffer, the 3 others fetch it whole from the learner
# silo's weight server over TCP into pooled buffers, checking its XxHash128 as it arrives
# (ROLLOUT_WEIGHT_TRANSFER=grain: 4 MB chunks through grain calls instead). Measured twice:
#   broadcast  silos whose generators answer instantly (`RolloutCluster.Benchmarks silo`, the real
#              silo host with InstantGeneratorGrain): the transfer alone, nothing else on the cores;
#   in_job     real `rollout silo` processes, real sampling: generators that already have the
#              version unpack it and sample on the same 2 cores while the others still receive.
# Each: the time a generator waits for a new version (timing/weights_wait_max_s, slowest slice),
# median over fresh versions, and in steady state (from version 6 on, when every silo's buffer pool
# holds its working set); also that wait plus the learner's packing (timing/weights_publish_s).
# Baseline in the same script: raw loopback TCP delivering the same bytes to 3 receivers at once.
# Ratio = raw time / broadcast time (1.0 = as fast as bare sockets).
# usage: benchmarks/broadcast.sh [steps]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-20}"
work="$(mktemp -d)"
export ROLLOUT_CLUSTER_DIR="$work/cluster" ROLLOUT_RUNS="$work/runs" ROLLOUT_DEVICES=cpu
export ROLLOUT__WeightTransfer="${ROLLOUT_WEIGHT_TRANSFER:-auto}"
trap '"$root/cluster/local-cluster.sh" down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
dotnet build "$root/benchmarks/RolloutCluster.Benchmarks" -c Release -nologo -v quiet >/dev/null
"$root/rollout" --help >/dev/null   # builds the CLI before the silos start from it
bench="dotnet $root/benchmarks/RolloutCluster.Benchmarks/bin/Release/net10.0/RolloutCluster.Benchmarks.dll"

# run NAME REWARD [ROLLOUT_CLI]: a 4-silo cluster, the job to its end, the cluster down.
run() {
  ROLLOUT_CLI="${3:-$root/rollout}" "$root/cluster/local-cluster.sh" up 4 >/dev/null
  local connection; connection="$(cat "$ROLLOUT_CLUSTER_DIR/connection")"
  cat > "$work/$1.yaml" <<YAML
name: $1
seed: 3
model: { preset: bench-100m, init_seed: 1, threads: 1 }
task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 10 }
rewards: [ { name: $2, weight: 1.0 } ]
stages:
  - { name: rl, kind: grpo, steps: $steps, prompts_per_step: 4, group_size: 2, sampling: { max_new_tokens: 1 }, optimizer: { lr: 1.0e-6 } }
YAML
  "$root/rollout" submit "$work/$1.yaml" --cluster "$connection" --run-directory "$work/runs/$1" >/dev/null
  "$root/rollout" watch "$1" --cluster "$connection" >/dev/null
  "$root/cluster/local-cluster.sh" down >/dev/null
}
run broadcast accuracy "$bench"     # instant generators: their answers are half right, so every step updates
run in_job language                 # real sampling; the language reward differs between random completions

raw="$($bench loopback-tcp --megabytes 103 --receivers 3 --rounds 5)"
python3 - "$work/runs" "$raw" <<'PY'
import json, statistics, sys
raw = json.loads(sys.argv[2])
out = {"scenario": "weight_broadcast", "silos": 4, "remote_silos": 3, "megabytes": 103.9,
       "raw_tcp_median_s": raw["median_s"], "raw_tcp_best_s": raw["best_s"]}
for name in ["broadcast", "in_job"]:
    rows = [json.loads(l) for l in open(f"{sys.argv[1]}/{name}/metrics.jsonl") if '"kind":"train"' in l]
    # Step 1 fetches version 0 while every silo is still warming up (JIT, first replica): not counted.
    # A step that follows one without an update reuses the cached version: not counted either.
    fresh = [(prev, r) for prev, r in zip(rows, rows[1:]) if r["batch/weights_version"] != prev["batch/weights_version"]]
    if not fresh: sys.exit(f"{name}: no step published a new version; nothing measured")
    waits = [r["timing/weights_wait_max_s"] for _, r in fresh]
    steady = [w for (_, r), w in zip(fresh, waits) if r["batch/weights_version"] >= 6] or waits
    # The version a step samples with was packed at the end of the step before.
    with_publish = [r["timing/weights_wait_max_s"] + prev["timing/weights_publish_s"] for prev, r in fresh]
    m, s, p = statistics.median(waits), statistics.median(steady), statistics.median(with_publish)
    out[name] = {"versions": len(waits), "wait_median_s": round(m, 3), "wait_min_s": round(min(waits), 3),
                 "steady_wait_median_s": round(s, 3), "publish_plus_wait_median_s": round(p, 3),
                 "ratio_raw_over_wait": round(raw["median_s"] / m, 2), "ratio_raw_over_steady_wait": round(raw["median_s"] / s, 2),
                 "ratio_raw_over_publish_plus_wait": round(raw["median_s"] / p, 2),
                 "waits_s": [round(w, 3) for w in waits]}
print(json.dumps(out))
PY
