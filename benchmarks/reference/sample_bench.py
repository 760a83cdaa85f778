"""Sampling throughput of the plain-PyTorch reference on the checkpoint and prompts that
RolloutCluster.Benchmarks `sampler` wrote: batch decoding with a KV cache (torch.cat per step, as
Hugging Face's DynamicCache does), temperature 1, drawing with torch.multinomial as PyTorch users
do, or with searchsorted over the CDF (the way ours draws), one thread.

usage: sample_bench.py DIR [--new-tokens 64] [--repeats 3] [--method multinomial|cdf|both]
Prints one JSON object per method.
"""
import argparse
import json
import time
from pathlib import Path

import torch

from qwen2_reference import Qwen2


def generate(model, prompts, new_tokens, method, generator):
    ids = torch.tensor(prompts, dtype=torch.int64)                 # (B, P)
    b, p = ids.shape
    valid = torch.ones(b, p + new_tokens, dtype=torch.bool)
    cache = model.new_cache()
    logits = model.forward(ids, torch.arange(p).expand(b, p), valid, cache)[:, -1]   # (B, V)
    out, logprobs = [], []
    for step in range(new_tokens):
        logp = torch.log_softmax(logits, dim=-1)
        probs = logp.exp()
        if method == "multinomial":
            token = torch.multinomial(probs, 1, generator=generator)               # (B, 1)
        else:
            cdf = probs.cumsum(-1)
            u = torch.rand(b, 1, generator=generator) * cdf[:, -1:]
            token = torch.searchsorted(cdf, u, right=True).clamp_max(cdf.shape[1] - 1)
        logprobs.append(logp.gather(1, token))
        out.append(token)
        if step == new_tokens - 1:
            break
        pos = torch.full((b, 1), p + step, dtype=torch.int64)
        logits = model.forward(token, pos, valid, cache)[:, -1]
    return torch.cat(out, dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--method", default="both")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = Qwen2(args.dir)
    prompts = json.loads((Path(args.dir) / "prompts.json").read_text())
    a = torch.randn(1024, 1024)
    best = min(_timed(lambda: a @ a) for _ in range(5))
    print(json.dumps({"impl": "reference_matmul_peak", "tokens_per_s": 0, "gflops": round(2 * 1024 ** 3 / best / 1e9, 2), "seconds": 0}))
    methods = ["multinomial", "cdf"] if args.method == "both" else [args.method]
    with torch.inference_mode():
        for method in methods:
            generate(model, prompts[:4], 4, method, torch.Generator().manual_seed(0))  # warm-up
            best = min(_timed(lambda: generate(model, prompts, args.new_tokens, method, torch.Generator().manual_seed(r)))
                       for r in range(args.repeats))
            n = len(prompts) * args.new_tokens
            print(json.dumps({"impl": f"reference_kv_{method}", "tokens_per_s": round(n / best, 1), "seconds": round(best, 3)}), flush=True)


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
