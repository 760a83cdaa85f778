"""An independent, plain-PyTorch Qwen2/Llama decoder for checking RolloutCluster's model.

Written from the architecture description (Hugging Face's Qwen2ForCausalLM), not from our C#:
manual attention (no scaled_dot_product_attention, absent from Debian's torch 1.13), rotate-half
RoPE, RMSNorm in float32, SwiGLU, grouped-query heads by repeat_interleave. Reads config.json and
model.safetensors with the standard library and torch only (no safetensors package).
"""
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
        inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.int64).float() / self.head_dim))
        self.inv_freq = inv_freq
        self.lm_head = self.w["lm_head.weight"] if "lm_head.weight" in self.w and not cfg.get("tie_word_embeddings") else self.w["model.embed_tokens.weight"]

    def rms(self, x, weight):
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * h

    def rope(self, x, positions):
        freqs = positions.float()[..., None] * self.inv_freq          # (B, T, D/2)
        emb = torch.cat([freqs, freqs], dim=-1)                        # (B, T, D)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]              # (B, 1, T, D)
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rotated * sin

    def linear(self, x, name, bias=True):
        y = x @ self.w[name + ".weight"].t()
        b = self.w.get(name + ".bias")
        return y + b if (bias and b is not None) else y

    def forward(self, ids, positions, valid, cache=None):
        """ids, positions: (B, T) int64; valid: (B, Tk) bool over all slots so far. Returns logits (B, T, V)."""
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
        x = self.rms(x, self.w["model.norm.weight"])
        return x @ self.lm_head.t()

    def new_cache(self):
        return {"len": 0, "k": [None] * self.layers, "v": [None] * self.layers}
