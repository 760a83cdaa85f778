#!/usr/bin/env bash
# Sampler throughput at a real family's published shape (random weights), ours against the plain-PyTorch
# reference on the same checkpoint (saved in bf16; the reference reads it as float32), batch 16,
# 32-token prompts, 32 new tokens, one thread each, KV cache on both sides. Ours samples in float32 (the
# reference's dtype) and, as a second row, in bfloat16. Alternating rounds; ratios per round, median.
# usage: benchmarks/sampler-family.sh [PRESET] [rounds]   (default qwen2.5-0.5b, 2; needs python3-torch: ./test.sh installs it)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset="${1:-qwen2.5-0.5b}"; rounds="${2:-2}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet build "$root/benchmarks/RolloutCluster.Benchmarks" -c Release -nologo -v quiet >/dev/null
bench="dotnet $root/benchmarks/RolloutCluster.Benchmarks/bin/Release/net10.0/RolloutCluster.Benchmarks.dll"
common=(--out "$out/ckpt" --preset "$preset" --dtype bfloat16 --batch 16 --prompt-length 32 --new-tokens 32 --repeats 1 --variants kv_cdf)
echo "# $(lscpu | sed -n 's/^Model name: *//p'); preset $preset" >&2
for r in $(seq 1 "$rounds"); do
  $bench sampler "${common[@]}" | sed "s/^/{\"round\":$r,\"dtype\":\"float32\",\"r\":/; s/}$/}}/" >>"$out/results.jsonl"
  $bench sampler "${common[@]}" --sample-dtype bfloat16 | grep -v matmul_peak | sed "s/^/{\"round\":$r,\"dtype\":\"bfloat16\",\"r\":/; s/}$/}}/" >>"$out/results.jsonl"
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 "$root/benchmarks/reference/sample_bench.py" "$out/ckpt" --new-tokens 32 --repeats 1 --method both \
    | sed "s/^/{\"round\":$r,\"dtype\":\"float32\",\"r\":/; s/}$/}}/" >>"$out/results.jsonl"
done
/usr/bin/python3 - "$out/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for row in rows:
    by.setdefault(row["round"], {})[(row["r"]["impl"], row["dtype"])] = row["r"]
def median(f):
    return statistics.median(f(x) for x in by.values())
for key in sorted({k for x in by.values() for k in x}):
    print(f"{key[0]} ({key[1]}): {median(lambda x: x[key]['tokens_per_s'] if key in x else float('nan')):.1f} tokens/s, {median(lambda x: x[key].get('gflops', float('nan')) if key in x else float('nan')):.1f} GFLOP/s")
ours, peak = ("ours_kv_cdf", "float32"), ("matmul_peak", "float32")
for ref in [k for k in next(iter(by.values())) if k[0].startswith("reference_kv")]:
    ratios = [x[ours]["tokens_per_s"] / x[ref]["tokens_per_s"] for x in by.values()]
    print(f"ours float32 / {ref[0]}: per round {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}x")
bf = ("ours_kv_cdf", "bfloat16")
if all(bf in x for x in by.values()):
    print(f"ours bfloat16 / ours float32: median {statistics.median(x[bf]['tokens_per_s'] / x[ours]['tokens_per_s'] for x in by.values()):.2f}x")
print(f"ours float32 useful GFLOP/s / libtorch 1024^3 sgemm peak: {median(lambda x: x[ours]['gflops']):.1f} / {median(lambda x: x[peak]['gflops']):.1f} = {median(lambda x: x[ours]['gflops'] / x[peak]['gflops']):.0%}")
PY
