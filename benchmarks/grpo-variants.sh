#!/usr/bin/env bash
# The main job's GRPO stage (benchmarks/jobs/arithmetic-grpo-stage.yaml: 560 steps of 16 prompts x 8,
# held-out evaluation every 140 steps) from one SFT checkpoint, run twice side by side with different
# --set overrides, one thread each (the same for both, so the comparison is fair on 2 cores), then the
# held-out pass@1 / maj@8 along each run. Both variants sample the same number of completions per step.
# usage: benchmarks/grpo-variants.sh SFT_CHECKPOINT "SETTINGS A" "SETTINGS B"
#   e.g. benchmarks/grpo-variants.sh runs/arithmetic-grpo/checkpoints/sft "" "stages.grpo.mini_batches=2"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -eq 3 ] || { echo "usage: $0 SFT_CHECKPOINT \"SETTINGS A\" \"SETTINGS B\" (space-separated key=value, may be empty)" >&2; exit 2; }
checkpoint="$1"; work="${ROLLOUT_BENCH_DIR:-$(mktemp -d)}"
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; checkpoint $checkpoint" >&2
"$root/rollout" validate "$root/benchmarks/jobs/arithmetic-grpo-stage.yaml" --set model.checkpoint="$checkpoint" >/dev/null
run() {   # run NAME "key=value ..."
  local sets=(--set model.checkpoint="$checkpoint" --set model.threads=1 --set name="$1")
  for kv in $2; do sets+=(--set "$kv"); done
  "$root/rollout" run "$root/benchmarks/jobs/arithmetic-grpo-stage.yaml" --in-process --output "$work" "${sets[@]}" > "$work/$1.log" 2>&1
}
run variant-a "$2" & a=$!
run variant-b "$3" & b=$!
wait $a; wait $b
/usr/bin/python3 - "$work" "$2" "$3" <<'PY'
import json, sys
work, names = sys.argv[1], {"variant-a": sys.argv[2] or "(defaults)", "variant-b": sys.argv[3] or "(defaults)"}
for run, label in names.items():
    rows = [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl")]
    evals = [r for r in rows if r.get("kind") == "eval"]
    train = [r for r in rows if r.get("kind") == "train"]
    clip = sum(r.get("actor/pg_clipfrac", 0) for r in train) / max(len(train), 1)
    print(json.dumps({"run": label, "pass@1": [round(100 * e["eval/pass@1"], 1) for e in evals],
                      "maj@8": [round(100 * e["eval/maj@8"], 1) for e in evals], "mean_clipfrac": round(clip, 4),
                      "sampled_tokens": sum(r.get("response/tokens", 0) for r in train), "minutes": round(train[-1]["elapsed_s"] / 60, 1)}))
PY
