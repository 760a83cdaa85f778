#!/usr/bin/env bash
# Tokenizer encoding throughput, ours against transformers.js (@lenml/tokenizers), on the real
# tokenizer files of Qwen3, Llama 3 and DeepSeek-V3 and the oracle tests' corpus (5,200 strings, x4).
# Each round runs each side in a fresh process (one warm-up string, then one pass over the strings,
# timed inside the process); the ratio is per round, the median over rounds is reported.
# usage: benchmarks/tokenizers.sh [rounds]   (needs the oracle: ./test.sh installs it)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
oracle="${ROLLOUT_ORACLE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout-oracle}"
[ -d "$oracle/node_modules/@lenml/tokenizers" ] || { echo "the oracle is not installed in $oracle: run ./test.sh first" >&2; exit 1; }
cp "$root/tests/oracle/oracle.mjs" "$oracle/oracle.mjs"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet build "$root/benchmarks/RolloutCluster.Benchmarks" -c Release -nologo -v quiet >/dev/null
bench="dotnet $root/benchmarks/RolloutCluster.Benchmarks/bin/Release/net10.0/RolloutCluster.Benchmarks.dll"
echo "# $(lscpu | sed -n 's/^Model name: *//p'); node $(node --version)" >&2
for model in qwen3 llama3 deepseek_v3; do
  dir="$oracle/node_modules/@lenml/tokenizer-$model/models"
  for r in $(seq 1 "$rounds"); do
    ours=$($bench tokenizer --model "$dir" --strings "$out/strings.json")
    (cd "$oracle" && node oracle.mjs encode "$dir" "$out/strings.json" "$out/ids.json")
    theirs=$(/usr/bin/python3 -c "import json; print(json.load(open('$out/ids.json'))['ms'])")
    echo "{\"model\":\"$model\",\"round\":$r,\"ours\":$ours,\"oracle_ms\":$theirs}" >>"$out/results.jsonl"
  done
done
/usr/bin/python3 - "$out/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for model in dict.fromkeys(r["model"] for r in rows):
    mine = [r for r in rows if r["model"] == model]
    ratios = [r["oracle_ms"] / r["ours"]["ms"] for r in mine]
    ours = statistics.median(r["ours"]["ms"] for r in mine)
    theirs = statistics.median(r["oracle_ms"] for r in mine)
    n, tokens = mine[0]["ours"]["strings"], mine[0]["ours"]["tokens"]
    print(f"{model}: {n} strings, {tokens} tokens; ours {ours:.0f} ms ({tokens / ours * 1000:,.0f} tokens/s), transformers.js {theirs:.0f} ms; "
          f"speed ours/transformers.js per round {', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}x")
PY
