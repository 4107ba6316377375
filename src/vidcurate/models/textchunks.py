"""Split text into CLIP-sized token chunks instead of truncating it at 77 tokens.

Sentences are packed greedily into chunks of at most `max_length - 2` content tokens (room for the start
and end tokens); a sentence longer than that is cut at word boundaries. Every token of the caption lands in
exactly one chunk, so no part of a long caption is ignored.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def sentences(text: str) -> list[str]:
    """Sentences of a text (split after . ! ? ;), blank ones removed."""
    return [s.strip() for s in SENTENCE_END.split(text.strip()) if s.strip()]


def chunk_ids(tokenizer: Any, text: str, max_length: int = 77) -> list[list[int]]:
    """Content token ids per chunk (no special tokens), each at most max_length - 2 long."""
    cap = max_length - 2
    chunks: list[list[int]] = []
    current: list[int] = []
    for sentence in sentences(text):
        ids = tokenizer.encode(sentence, add_special_tokens=False)
        if len(current) + len(ids) <= cap:
            current += ids
            continue
        if current:
            chunks.append(current)
            current = []
        while len(ids) > cap:
            cut = _word_cut(tokenizer, ids, cap)
            chunks.append(ids[:cut])
            ids = ids[cut:]
        current = list(ids)
    if current:
        chunks.append(current)
    return chunks


def truncated_ids(tokenizer: Any, text: str, max_length: int = 77) -> list[list[int]]:
    """The first max_length - 2 content tokens only: what CLIP pipelines that truncate see."""
    ids = tokenizer.encode(" ".join(sentences(text)), add_special_tokens=False)[: max_length - 2]
    return [ids] if ids else []


def pack(tokenizer: Any, chunks: list[list[int]], max_length: int = 77) -> tuple[np.ndarray, np.ndarray]:
    """Chunks -> (input_ids, attention_mask), each row start + chunk + end, padded to max_length."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = np.full((len(chunks), max_length), pad, dtype=np.int64)
    mask = np.zeros((len(chunks), max_length), dtype=np.int64)
    for i, chunk in enumerate(chunks):
        row = [tokenizer.bos_token_id, *chunk, tokenizer.eos_token_id]
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask


def _word_cut(tokenizer: Any, ids: list[int], cap: int) -> int:
    """The largest cut <= cap that ends on a word (CLIP marks word ends with '</w>'); cap if none."""
    tokens = tokenizer.convert_ids_to_tokens(ids[:cap])
    for i in range(len(tokens) - 1, 0, -1):
        if str(tokens[i]).endswith("</w>"):
            return i + 1
    return cap
