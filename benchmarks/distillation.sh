#!/usr/bin/env bash
# DeepSeek-R1's distillation finding at this scale: a student of a fifth of the tiny model's parameters
# (hidden 64, 4 layers: ~165k), after the main job's cold-start SFT, either (A) learns the verified
# solutions of a teacher (the R1 recipe's final model: 8 samples of 2,000 prompts, at most 4 distinct
# kept per prompt, then 400 SFT steps) or (B) goes through the recipe's reasoning GRPO itself (560 steps).
# A and B run side by side from the same SFT checkpoint, one thread each; held-out pass@1 / maj@8 and
# wall time of each are printed.
# usage: benchmarks/distillation.sh TEACHER_CHECKPOINT   (e.g. runs/r1-recipe/checkpoints/final-rl)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -eq 1 ] || { echo "usage: $0 TEACHER_CHECKPOINT" >&2; exit 2; }
teacher="$(cd "$1" && pwd)"; work="${ROLLOUT_BENCH_DIR:-$(mktemp -d)}"
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; teacher $teacher" >&2
cat > "$work/student.json" <<'JSON'
{ "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128,
  "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 263,
  "max_position_embeddings": 512, "rope_theta": 10000, "rms_norm_eps": 1e-6, "tie_word_embeddings": true,
  "hidden_act": "silu", "torch_dtype": "float32", "eos_token_id": 256, "pad_token_id": 256 }
JSON
[ -f "$work/student/config.json" ] || "$root/rollout" init "$work/student" --config "$work/student.json" --seed 1 >&2
[ -f "$work/student-sft/arithmetic-sft-only/checkpoints/sft/config.json" ] ||
  "$root/rollout" run "$root/benchmarks/jobs/arithmetic-sft-only.yaml" --in-process --output "$work/student-sft" \
    --set model="{ checkpoint: $work/student, threads: 2 }" > "$work/sft.log" 2>&1
sft="$work/student-sft/arithmetic-sft-only/checkpoints/sft"
common=(--set model="{ checkpoint: $sft, threads: 1 }" --set 'evaluation.after=[learn]')
"$root/rollout" run "$root/benchmarks/jobs/distill-student.yaml" --in-process --output "$work/a" --set name=distilled \
  --set stages.teach.teacher="$teacher" "${common[@]}" > "$work/a.log" 2>&1 & a=$!
"$root/rollout" run "$root/examples/r1-recipe.yaml" --in-process --output "$work/b" --set name=rl-alone \
  --set model="{ checkpoint: $sft, threads: 1 }" --set 'stages=[{ name: learn, kind: grpo, steps: 560, prompts_per_step: 16, group_size: 8, micro_batch_size: 128, mini_batches: 2, dynamic_sampling: true, max_sampling_rounds: 4, oversample: 2.0, sampling: { temperature: 1.0, max_new_tokens: 64 }, loss: { aggregation: token-mean, clip_low: 0.2, clip_high: 0.28 }, optimizer: { lr: 1.0e-4, warmup_steps: 10, schedule: constant, grad_clip: 1.0 } }]' \
  --set 'evaluation.after=[learn]' > "$work/b.log" 2>&1 & b=$!
wait $a; wait $b
/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
sft = [json.loads(l) for l in open(f"{work}/student-sft/arithmetic-sft-only/metrics.jsonl") if '"eval"' in l][-1]
print(json.dumps({"student_after_cold_start": {"pass@1": round(100 * sft["eval/pass@1"], 1), "maj@8": round(100 * sft["eval/maj@8"], 1)}}))
for run, name in [("a", "distilled"), ("b", "rl-alone")]:
    rows = [json.loads(l) for l in open(f"{work}/{run}/{name}/metrics.jsonl")]
    e = [r for r in rows if r["kind"] == "eval"][-1]
    out = {"run": name, "pass@1": round(100 * e["eval/pass@1"], 1), "maj@8": round(100 * e["eval/maj@8"], 1), "minutes": round(rows[-1]["elapsed_s"] / 60, 1)}
    out.update({k: v for r in rows if r["kind"] == "rejection" for k, v in r.items() if k in ("rejection/kept", "rejection/correct", "rejection/samples")})
    print(json.dumps(out))
PY
