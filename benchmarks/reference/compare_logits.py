"""Compares RolloutCluster's logits with the reference implementation's.

usage: compare_logits.py CHECKPOINT OURS.safetensors [--tolerance 1e-3]
OURS holds input_ids_<i> (T) and logits_<i> (T, V) for each prompt i. Prints the max |logit diff|
and exits 1 when it is not below the tolerance.
"""
import argparse
import sys

import torch

from qwen2_reference import Qwen2, read_safetensors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("ours")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = Qwen2(args.checkpoint)
    ours = read_safetensors(args.ours)
    worst, count = 0.0, 0
    with torch.no_grad():
        i = 0
        while f"input_ids_{i}" in ours:
            ids = ours[f"input_ids_{i}"].long()[None]
            t = ids.shape[1]
            ref = model.forward(ids, torch.arange(t)[None], torch.ones(1, t, dtype=torch.bool))[0]
            diff = (ref - ours[f"logits_{i}"]).abs().max().item()
            worst = max(worst, diff)
            count += ref.numel()
            i += 1
    if i == 0:
        print("no prompts found in", args.ours, file=sys.stderr)
        return 2
    print(f"prompts={i} logits={count} max_abs_logit_diff={worst:.3e} tolerance={args.tolerance:g}")
    return 0 if worst < args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
