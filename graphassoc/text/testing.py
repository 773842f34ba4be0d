"""A tiny random BERT saved as a local Hugging Face directory: fast tests without real weights."""

from __future__ import annotations

from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def save_tiny_bert(path: Path, words: list[str] | None = None, hidden: int = 32, layers: int = 2,
                   seed: int = 0) -> Path:
    """Write config.json, model.safetensors and a word-level vocab for a 2-layer, 32-wide BERT."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    letters = list("abcdefghijklmnopqrstuvwxyz0123456789") + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    vocab = list(dict.fromkeys(SPECIAL + [w.lower() for w in (words or [])] + letters + list("-.,&'/()")))
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizer(vocab=str(path / "vocab.txt"), do_lower_case=True).save_pretrained(path)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                        intermediate_size=hidden * 2, max_position_embeddings=128)
    BertModel(config).save_pretrained(path, safe_serialization=True)
    return path
