#!/usr/bin/env bash
# A weights version past 3 GiB across silo processes: a synthetic Qwen2-family model (one layer of
# 128 wide under a tied embedding of 6,445,312 rows: 3.30 GB in float32, one tensor past .NET's
# 2 GiB limits) trained with LoRA through a 4-silo local cluster: silo 1 is a learner silo (--devices
# none), silos 2-4 run the real silo host with instant generators (`RolloutCluster.Benchmarks silo`),
# which lease every version through the silo's weight cache as the real generator does. The frozen
# base is the big version: the learner packs it once and its weight server sends it to the 3 silos at
# once, each receiving into its own pooled buffer and checking the XxHash128 on the way in.
# Measured per round (a fresh cluster each): the slowest silo's wait for its first version (base and
# adapters: timing/weights_wait_max_s of step 1), against raw loopback TCP writes of 3.30 GB to 3
# receivers in the same script. Ratio = raw / ours (1.0 = as fast as bare sockets).
# usage: benchmarks/broadcast-large.sh [rounds]   (~17 GB of memory: 4 copies of the version)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
work="${ROLLOUT_BENCH_DIR:-$(mktemp -d)}"
export ROLLOUT_CLUSTER_DIR="$work/cluster" ROLLOUT_RUNS="$work/runs" ROLLOUT_DEVICES=cpu ROLLOUT_LEARNER_SILOS=1
trap '"$root/cluster/local-cluster.sh" down >/dev/null 2>&1 || true' EXIT
dotnet build "$root/benchmarks/RolloutCluster.Benchmarks" -c Release -nologo -v quiet >/dev/null
"$root/rollout" --help >/dev/null   # builds the CLI before the silos start from it
bench="dotnet $root/benchmarks/RolloutCluster.Benchmarks/bin/Release/net10.0/RolloutCluster.Benchmarks.dll"
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB" >&2

if [ ! -f "$work/model/config.json" ]; then
  cat > "$work/config.json" <<'JSON'
{ "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 128, "intermediate_size": 352,
  "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 6445312,
  "max_position_embeddings": 512, "rope_theta": 10000, "rms_norm_eps": 1e-6, "tie_word_embeddings": true,
  "hidden_act": "silu", "torch_dtype": "float32", "eos_token_id": 256, "pad_token_id": 256 }
JSON
  "$root/rollout" init "$work/model" --config "$work/config.json" --seed 1 >&2
fi
cat > "$work/job.yaml" <<YAML
name: big
seed: 3
model: { checkpoint: $work/model, threads: 1, lora: { rank: 4, target_modules: [q_proj, v_proj] } }
task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 10 }
rewards: [ { name: accuracy, weight: 1.0 } ]
stages:
  - { name: rl, kind: grpo, steps: 2, prompts_per_step: 6, group_size: 2, sampling: { max_new_tokens: 1 }, optimizer: { lr: 1.0e-4 } }
YAML
"$root/rollout" validate "$work/job.yaml" >/dev/null

# Each measurement starts with the page cache dropped where this user may (root), so none inherits
# another's reclaim work: a first version lands in fresh memory, whose page faults dominate here.
drop_caches() { sync; { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null || true; }
for round in $(seq 1 "$rounds"); do
  rm -rf "$ROLLOUT_CLUSTER_DIR" "$ROLLOUT_RUNS"
  drop_caches
  ROLLOUT_CLI="$bench" "$root/cluster/local-cluster.sh" up 4 >/dev/null
  cluster="$(cat "$ROLLOUT_CLUSTER_DIR/connection")"
  "$root/rollout" submit "$work/job.yaml" --cluster "$cluster" --set name="big$round" >/dev/null
  "$root/rollout" watch "big$round" --cluster "$cluster" >/dev/null 2>&1 || true
  peaks=""
  for p in "$ROLLOUT_CLUSTER_DIR"/silo-*.pid; do peaks="$peaks$(awk '/VmHWM/{printf "%.2f,", $2/1048576}' "/proc/$(cat "$p")/status")"; done
  grep -h "TCP transfer from" "$ROLLOUT_CLUSTER_DIR"/silo-*.log >&2 || true   # a fallback to chunks would show here
  "$root/cluster/local-cluster.sh" down >/dev/null
  /usr/bin/python3 - "$ROLLOUT_RUNS/big$round/metrics.jsonl" "${peaks%,}" >> "$work/rounds.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"kind":"train"' in l]
if not rows: sys.exit(f"{sys.argv[1]}: no GRPO step finished")
print(json.dumps({"first_wait_s": rows[0]["timing/weights_wait_max_s"], "adapter_version_bytes": rows[0].get("weights/version_bytes"),
                  "later_waits_s": [r["timing/weights_wait_max_s"] for r in rows[1:]], "silo_peak_rss_gib": [float(x) for x in sys.argv[2].split(",")]}))
PY
  tail -1 "$work/rounds.jsonl" >&2
done

# Two baselines: receivers that read into one reused 1 MB buffer (the sockets alone), and receivers
# that read into fresh memory of the version's size, as a silo receiving its first version must (one
# process per round: memory a process has touched once is not fresh again).
drop_caches
raw="$($bench loopback-tcp --megabytes 3300 --receivers 3 --rounds 3)"
: > "$work/fresh.jsonl"
for round in $(seq 1 "$rounds"); do drop_caches; $bench loopback-tcp --megabytes 3300 --receivers 3 --rounds 1 --into fresh >> "$work/fresh.jsonl"; done
/usr/bin/python3 - "$work/rounds.jsonl" "$raw" "$work/fresh.jsonl" "$work/model" <<'PY'
import json, os, statistics, sys
rounds = [json.loads(l) for l in open(sys.argv[1])]
raw = json.loads(sys.argv[2])
fresh_rounds = [json.loads(l)["median_s"] for l in open(sys.argv[3])]
fresh = {"median_s": statistics.median(fresh_rounds)}
base = sum(os.path.getsize(os.path.join(sys.argv[4], f)) for f in os.listdir(sys.argv[4]) if f.endswith(".safetensors"))
wait = statistics.median(r["first_wait_s"] for r in rounds)
print(json.dumps({"scenario": "weight_broadcast_large", "silos": 4, "receiving_silos": 3, "base_checkpoint_bytes": base,
                  "first_version_wait_median_s": round(wait, 3),
                  "raw_tcp_median_s": raw["median_s"], "ratio_raw_over_wait": round(raw["median_s"] / wait, 2),
                  "raw_tcp_into_fresh_memory_median_s": fresh["median_s"], "ratio_raw_fresh_over_wait": round(fresh["median_s"] / wait, 2),
                  "raw_tcp_into_fresh_memory_s": fresh_rounds, "rounds": rounds}))
PY
