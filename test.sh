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
#   redis-server: the multi-process cluster tests (Redis clustering and job state, via cluster/local-cluster.sh).
packages=(python3 python3-torch libopenblas0-pthread bubblewrap chromium redis-server)
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

dotnet test "$root/RolloutCluster.sln" -c Release --nologo "$@"
