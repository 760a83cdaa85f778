#!/usr/bin/env bash
# Peak memory of one GRPO learner step at a real vocabulary: ours (log-probs in row chunks) against the
# plain formulation over (B, T, V) logits, each in its own process on the same model and batch.
# usage: benchmarks/learner-memory.sh [PRESET] [LAYERS] [ROWS] [COMPLETION]   (default qwen2.5-0.5b, 2 layers, 8 rows, 192 tokens)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset="${1:-qwen2.5-0.5b}"; layers="${2:-2}"; rows="${3:-8}"; completion="${4:-192}"
dotnet build "$root/benchmarks/RolloutCluster.Benchmarks" -c Release -nologo -v quiet >/dev/null
bench="dotnet $root/benchmarks/RolloutCluster.Benchmarks/bin/Release/net10.0/RolloutCluster.Benchmarks.dll"
echo "# $(lscpu | sed -n 's/^Model name: *//p'); preset $preset, $layers layers, $rows rows x (64 + $completion) tokens" >&2
chunked=$($bench learner-memory --mode chunked --preset "$preset" --layers "$layers" --rows "$rows" --completion "$completion")
full=$($bench learner-memory --mode full --preset "$preset" --layers "$layers" --rows "$rows" --completion "$completion")
echo "$chunked"; echo "$full"
/usr/bin/python3 - "$chunked" "$full" <<'PY'
import json, sys
c, f = json.loads(sys.argv[1]), json.loads(sys.argv[2])
step = lambda r: r["peak_rss_gb"] - r["peak_before_step_gb"]
print(json.dumps({"scenario": "learner_memory_ratio", "chunked_peak_gb": c["peak_rss_gb"], "full_peak_gb": f["peak_rss_gb"],
                  "peak_ratio": round(c["peak_rss_gb"] / f["peak_rss_gb"], 3),
                  "step_growth_chunked_gb": round(step(c), 3), "step_growth_full_gb": round(step(f), 3),
                  "time_ratio": round(c["step_s"] / f["step_s"], 3)}))
PY
