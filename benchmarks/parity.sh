#!/usr/bin/env bash
# Our model against the independent plain-PyTorch implementation (benchmarks/reference/qwen2_reference.py)
# on random checkpoints written by the test: prints max |logit diff| per architecture (must be < 1e-3 in fp32).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet test "$root/tests/RolloutCluster.Tests" -c Release --nologo --filter "FullyQualifiedName~ReferenceParityTests" \
  --logger "console;verbosity=detailed" 2>&1 | grep -E "max_abs_logit_diff|Passed |Failed " | sed 's/^ *//'
