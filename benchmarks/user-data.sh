#!/usr/bin/env bash
# GRPO on a user's own JSONL file, from the main job's SFT checkpoint: 2,000 arithmetic problems in
# a layout of the user's ({"task": "...", "result": 522, "uid": "u17"}), written by this script from
# the same distribution as the built-in task (Python's random, not our generator), read through a
# `fields:` mapping and templated as the checkpoint was trained. The training accuracy of the first
# GRPO steps should sit where the checkpoint's held-out pass@1 does (65.2% for the README's run):
# that shows the user's rows are read, templated and rewarded as the built-in ones are.
# usage: benchmarks/user-data.sh [CHECKPOINT] [steps]   (default: runs/arithmetic-grpo/checkpoints/sft, 20)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
checkpoint="$(realpath "${1:-$root/runs/arithmetic-grpo/checkpoints/sft}")"; steps="${2:-20}"
out="$(mktemp -d)"
/usr/bin/python3 - "$out/problems.jsonl" <<'PY'
import json, random, sys
rng = random.Random(2026)
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        op = rng.choice("+-*")
        a = rng.randint(0, 999)
        b = rng.randint(0, 9) if op == "*" else rng.randint(0, 999)
        result = a + b if op == "+" else a - b if op == "-" else a * b
        f.write(json.dumps({"uid": f"u{i}", "task": f"Compute: {a} {op} {b}", "result": result}) + "\n")
PY
cat >"$out/job.yaml" <<YAML
name: user-data
seed: 1
model: { checkpoint: $checkpoint, threads: 2 }
task:
  dataset: $out/problems.jsonl
  fields: { id: uid, prompt: task, answer: result }
  test: holdout:200
  template: r1-compact
rewards: [ { name: accuracy, weight: 1.0 }, { name: format, weight: 0.1 } ]
stages:
  - name: before
    kind: eval
    samples: 8
    max_new_tokens: 64
  - name: grpo
    kind: grpo
    steps: $steps
    prompts_per_step: 16
    group_size: 8
    micro_batch_size: 128
    sampling: { temperature: 1.0, max_new_tokens: 64 }
    optimizer: { lr: 1.0e-4, warmup_steps: 10 }
YAML
cd "$root"
./rollout validate "$out/job.yaml"
./rollout run "$out/job.yaml" --output "$out/runs" --dashboard-port 0 >"$out/run.log"
/usr/bin/python3 - "$out/runs/user-data/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
before = next(r for r in rows if r["kind"] == "eval")
train = [r for r in rows if r["kind"] == "train"]
first = train[:5]
acc = sum(r["reward/accuracy"] for r in first) / len(first)
print(f"held-out pass@1 of the checkpoint on the user's 200 held-out rows: {before['eval/pass@1']:.3f}")
print(f"training accuracy (reward/accuracy) on the user's rows, first 5 GRPO steps: {acc:.3f}; last 5: "
      f"{sum(r['reward/accuracy'] for r in train[-5:]) / 5:.3f}; format {sum(r['reward/format'] for r in first) / len(first):.3f}")
PY
echo "run directory: $out/runs/user-data" >&2
