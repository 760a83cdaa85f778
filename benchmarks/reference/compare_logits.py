"""Compares RolloutCluster's logits with the reference implementation's.

usage: compare_logits.py CHECKPOINT OURS.safetensors [--tolerance 1e-3]
OURS holds input_ids_<i> (T) and logits_<i> (T, V) for each prompt i. Prints the max |logit diff|
and exits 1 when it is not below the tolerance.
"""
import sys

import torch

from qwen2_reference import Qwen2, comparison_args, each_sequence, read_safetensors


def main():
    args = comparison_args(1e-3)
    torch.set_num_threads(1)
    model = Qwen2(args.checkpoint)
    ours = read_safetensors(args.ours)
    worst, count, i = 0.0, 0, 0
    with torch.no_grad():
        for n, ids, positions, mask in each_sequence(ours):
            ref = model.forward(ids, positions, mask)[0]
            worst = max(worst, (ref - ours[f"logits_{n}"]).abs().max().item())
            count += ref.numel()
            i = n + 1
    if i == 0:
        print("no prompts found in", args.ours, file=sys.stderr)
        return 2
    print(f"prompts={i} logits={count} max_abs_logit_diff={worst:.3e} tolerance={args.tolerance:g}")
    return 0 if worst < args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
