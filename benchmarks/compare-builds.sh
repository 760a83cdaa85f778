#!/usr/bin/env bash
# Wall time and metrics of one job under two builds of the CLI, run back to back on this machine:
# e.g. the commit before a redesign against the working tree. The two alternate (through the
# grains, then --in-process) for several rounds; per-round ratios new/old and their median are
# printed, and every run's metrics.jsonl (timing fields removed) must equal the first old run's.
# usage: benchmarks/compare-builds.sh OLD_CHECKOUT NEW_CHECKOUT JOB_FILE [rounds] [modes]
#   modes: "grains in-process" (default), or one of them
set -euo pipefail
old="$(cd "$1" && pwd)"; new="$(cd "$2" && pwd)"; job="$(realpath "$3")"; rounds="${4:-3}"; modes="${5:-grains in-process}"
out="$(mktemp -d)"
echo "# $(lscpu | sed -n 's/^Model name: *//p'); job $job; $rounds round(s); out $out" >&2
(cd "$old" && ./rollout --help >/dev/null) && (cd "$new" && ./rollout --help >/dev/null)   # build both first
for r in $(seq 1 "$rounds"); do
  for mode in $modes; do
    flag=""; [ "$mode" = in-process ] && flag="--in-process"
    for build in old new; do
      dir="$old"; [ "$build" = new ] && dir="$new"
      start=$(date +%s.%N)
      (cd "$dir" && ./rollout run "$job" --output "$out/$build-$mode-$r" --dashboard-port 0 $flag >"$out/$build-$mode-$r.log" 2>&1)
      end=$(date +%s.%N)
      echo "{\"round\":$r,\"mode\":\"$mode\",\"build\":\"$build\",\"seconds\":$(echo "$end - $start" | bc)}" | tee -a "$out/times.jsonl"
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(out, "times.jsonl"))]
timing = re.compile(r'"(elapsed_s|timing/[a-z_]+|perf/[a-z_]+|eval/seconds|eval/generator/[^"]+)":[-0-9.eE+]+,?')
def metrics(build, mode, r):
    [path] = glob.glob(os.path.join(out, f"{build}-{mode}-{r}", "*", "metrics.jsonl"))
    return [timing.sub("", line) for line in open(path)]
reference = metrics("old", rows[0]["mode"], 1)
for row in rows:
    same = metrics(row["build"], row["mode"], row["round"]) == reference
    print(f'{row["build"]:>3} {row["mode"]:<10} round {row["round"]}: {row["seconds"]:7.1f} s, metrics {"identical" if same else "DIFFER"}')
for mode in sorted({r["mode"] for r in rows}):
    ratios = []
    for r in sorted({x["round"] for x in rows}):
        t = {x["build"]: x["seconds"] for x in rows if x["mode"] == mode and x["round"] == r}
        ratios.append(t["new"] / t["old"])
    print(f"{mode}: new/old wall time per round {', '.join(f'{x:.3f}' for x in ratios)}; median {statistics.median(ratios):.3f}")
PY
