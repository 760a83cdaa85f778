"""An independent, plain-PyTorch Qwen2/Llama decoder for checking RolloutCluster's model.

Written from the architecture description (Hugging Face's Qwen2ForCausalLM), not from our C#:
manual attention (no scaled_dot_product_attention, absent from Debian's torch 1.13), rotate-half
RoPE, RMSNorm in float32, SwiGLU, grouped-query heads by repeat_interleave. Reads config.json and
model.safetensors with the standard library and torch only (no safetensors package).
"""
import argparse
import json
import math
import struct
from pathlib import Path

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    start = 8 + n
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = bytearray(data[start + b:start + end])
        t = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[e["dtype"]])
        tensors[name] = t.reshape(e["shape"]).clone()
    return tensors


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    names = {torch.float32: "F32", torch.int64: "I64"}
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def comparison_args(default_tolerance):
    """The arguments every comparison script takes: CHECKPOINT OURS.safetensors [--tolerance T]."""
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("ours")
    ap.add_argument("--tolerance", type=float, default=default_tolerance)
    return ap.parse_args()


def each_sequence(ours):
    """(i, ids (1, T), positions (1, T), mask (1, T)) for each input_ids_<i> in ours, in order: unpadded rows."""
    i = 0
    while f"input_ids_{i}" in ours:
        ids = ours[f"input_ids_{i}"].long()[None]
        t = ids.shape[1]
        yield i, ids, torch.arange(t)[None], torch.ones(1, t, dtype=torch.bool)
        i += 1


def cfg_qk_norm(cfg):
    return cfg.get("model_type") == "qwen3"


def rope_frequencies(cfg, theta, dim):
    """Inverse frequencies (D/2) and the cos/sin factor, as Hugging Face's rope_scaling types define them."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "default":
        return inv_freq, 1.0
    base = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    factor = scaling["factor"]
    if kind == "linear":
        return (base / factor).float(), 1.0
    if kind == "llama3":
        low, high, old = scaling["low_freq_factor"], scaling["high_freq_factor"], scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / base
        scaled = torch.where(wavelen > old / low, base / factor, base)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / high) & ~(wavelen > old / low)
        return torch.where(medium, smoothed, scaled).float(), 1.0
    if kind == "yarn":
        old = scaling.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
        fast, slow = scaling.get("beta_fast") or 32, scaling.get("beta_slow") or 1
        mscale = lambda s, m=1: 1.0 if s <= 1 else 0.1 * m * math.log(s) + 1.0
        attention = scaling.get("attention_factor") or mscale(factor)
        corr = lambda rot: dim * math.log(old / (rot * 2 * math.pi)) / (2 * math.log(theta))
        lo, hi = max(math.floor(corr(fast)), 0), min(math.ceil(corr(slow)), dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - lo) / (hi - lo)).clamp(0, 1)
        keep = 1 - ramp
        return (base / factor * (1 - keep) + base * keep).float(), attention
    raise ValueError(f"unsupported rope_type {kind}")


class Qwen2:
    def __init__(self, checkpoint):
        cfg = json.loads((Path(checkpoint) / "config.json").read_text())
        self.cfg = cfg
        self.w = {k: v.float() for k, v in read_safetensors(Path(checkpoint) / "model.safetensors").items()}
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads") or self.heads
        self.head_dim = cfg.get("head_dim") or cfg["hidden_size"] // self.heads
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        theta = cfg.get("rope_theta", 10000.0)
        self.inv_freq, self.attention_factor = rope_frequencies(cfg, theta, self.head_dim)
        self.lm_head = self.w["lm_head.weight"] if "lm_head.weight" in self.w and not cfg.get("tie_word_embeddings") else self.w["model.embed_tokens.weight"]

    def rms(self, x, weight):
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * h

    def rope(self, x, positions):
        freqs = positions.float()[..., None] * self.inv_freq          # (B, T, D/2)
        emb = torch.cat([freqs, freqs], dim=-1)                        # (B, T, D)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]              # (B, 1, T, D)
        cos, sin = cos * self.attention_factor, sin * self.attention_factor
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rotated * sin

    def linear(self, x, name, bias=True):
        y = x @ self.w[name + ".weight"].t()
        b = self.w.get(name + ".bias")
        return y + b if (bias and b is not None) else y

    def forward(self, ids, positions, valid, cache=None):
        """ids, positions: (B, T) int64; valid: (B, Tk) bool over all slots so far. Returns logits (B, T, V)."""
        return self.hidden(ids, positions, valid, cache) @ self.lm_head.t()

    def hidden(self, ids, positions, valid, cache=None):
        """The final norm's output (B, T, C): what the LM head, or a reward model's score head, reads."""
        x = self.w["model.embed_tokens.weight"][ids]                   # (B, T, C)
        b, t, _ = x.shape
        past = 0 if cache is None else cache["len"]
        tk = past + t
        q_pos = torch.arange(past, tk)[:, None]
        k_pos = torch.arange(tk)[None, :]
        allowed = (k_pos <= q_pos)[None] & valid[:, None, :tk]
        allowed = allowed | (k_pos == q_pos)[None]
        bias = torch.zeros(b, 1, t, tk).masked_fill(~allowed[:, None], float("-inf"))
        rep = self.heads // self.kv_heads
        for i in range(self.layers):
            p = f"model.layers.{i}."
            h = self.rms(x, self.w[p + "input_layernorm.weight"])
            q = self.linear(h, p + "self_attn.q_proj").view(b, t, self.heads, self.head_dim).transpose(1, 2)
            k = self.linear(h, p + "self_attn.k_proj").view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            v = self.linear(h, p + "self_attn.v_proj").view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            if cfg_qk_norm(self.cfg):
                # Qwen3: RMS norm over each head's queries and keys before the rotation.
                q = self.rms(q, self.w[p + "self_attn.q_norm.weight"])
                k = self.rms(k, self.w[p + "self_attn.k_norm.weight"])
            q, k = self.rope(q, positions), self.rope(k, positions)
            if cache is not None:
                k = torch.cat([cache["k"][i], k], dim=2) if past else k
                v = torch.cat([cache["v"][i], v], dim=2) if past else v
                cache["k"][i], cache["v"][i] = k, v
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + bias
            y = torch.softmax(scores, dim=-1) @ v                         # (B, H, T, D)
            y = y.transpose(1, 2).reshape(b, t, self.heads * self.head_dim)
            x = x + self.linear(y, p + "self_attn.o_proj")
            h = self.rms(x, self.w[p + "post_attention_layernorm.weight"])
            gate = torch.nn.functional.silu(self.linear(h, p + "mlp.gate_proj"))
            x = x + self.linear(gate * self.linear(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        if cache is not None:
            cache["len"] = tk
        return self.rms(x, self.w["model.norm.weight"])

    def new_cache(self):
        return {"len": 0, "k": [None] * self.layers, "v": [None] * self.layers}
