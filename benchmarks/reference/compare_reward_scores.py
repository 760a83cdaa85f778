"""Compares RolloutCluster's reward-model scores with the reference implementation's.

usage: compare_reward_scores.py REWARD_MODEL_DIR OURS.safetensors [--tolerance 1e-4]
REWARD_MODEL_DIR is a ForSequenceClassification checkpoint (model.* and score.weight (1, C)); OURS
holds input_ids_<i> (T) and score_<i> (1) for each sequence i. The reference reads the last token's
hidden state through score.weight, as transformers' Qwen2ForSequenceClassification does for an
unpadded row. Prints the max |score diff| and exits 1 when it is not below the tolerance.
"""
import sys

import torch

from qwen2_reference import Qwen2, comparison_args, each_sequence, read_safetensors


def main():
    args = comparison_args(1e-4)
    torch.set_num_threads(1)
    model = Qwen2(args.checkpoint)
    if "score.weight" not in model.w:
        print(f"{args.checkpoint}: no score.weight", file=sys.stderr)
        return 2
    ours = read_safetensors(args.ours)
    worst, i = 0.0, 0
    with torch.no_grad():
        for n, ids, positions, mask in each_sequence(ours):
            h = model.hidden(ids, positions, mask)[0, -1]   # (C)
            ref = h @ model.w["score.weight"].t()           # (1)
            worst = max(worst, (ref - ours[f"score_{n}"]).abs().max().item())
            i = n + 1
    if i == 0:
        print("no sequences found in", args.ours, file=sys.stderr)
        return 2
    print(f"sequences={i} max_abs_score_diff={worst:.3e} tolerance={args.tolerance:g}")
    return 0 if worst < args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
