from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from graphassoc.errors import UsageError
from graphassoc.text import encoder as enc_mod
from graphassoc.text.config import TextConfig
from graphassoc.text.encoder import ENCODERS, encode_texts, item_embeddings, item_texts

TITLES = ["WHITE HANGING HEART T-LIGHT HOLDER", "JUMBO BAG RED", "cake stand 3 tier", "mug",
          "RED HEART LUNCH BOX WITH A MUCH LONGER TITLE THAN THE OTHERS", ""]


def _sentence_transformers_reference(model_dir: Path, texts: list[str], max_length: int = 64) -> np.ndarray:
    st = pytest.importorskip("sentence_transformers")
    # A plain Hugging Face directory loads in sentence-transformers as Transformer + mean pooling.
    model = st.SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = max_length
    return model.encode(texts, batch_size=2, normalize_embeddings=True, convert_to_numpy=True)


def test_matches_sentence_transformers_on_tiny_bert(tiny_bert: Path) -> None:
    cfg = TextConfig(model=str(tiny_bert), batch_size=4)
    ours = encode_texts(TITLES, cfg)
    ref = _sentence_transformers_reference(tiny_bert, TITLES)
    assert ours.dtype == np.float32 and ours.shape == (len(TITLES), 32)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_batching_and_sorting_do_not_change_rows(tiny_bert: Path) -> None:
    # Padding to other lengths and reordering by length must give each text its own vector back.
    one_by_one = np.vstack([encode_texts([t], TextConfig(model=str(tiny_bert))) for t in TITLES])
    batched = encode_texts(TITLES, TextConfig(model=str(tiny_bert), batch_size=3))
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert not np.allclose(batched[0], batched[1])


def test_repeated_titles_are_encoded_once_and_land_on_every_row(tiny_bert: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = TextConfig(model=str(tiny_bert), batch_size=4)
    repeated = TITLES[:3] * 3 + ["mug"]
    calls = []
    original = enc_mod.encode_with

    def spy(enc, texts, *a, **kw):
        calls.append(len(texts))
        return original(enc, texts, *a, **kw)

    monkeypatch.setattr(enc_mod, "encode_with", spy)
    got = encode_texts(repeated, cfg)
    assert calls == [len(repeated), 4]  # the encoding pass sees the 4 distinct texts only
    np.testing.assert_allclose(got, encode_texts(TITLES[:3] + ["mug"], cfg)[[0, 1, 2] * 3 + [3]], atol=1e-5)


def test_missing_model_dir_is_one_line_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a directory") as err:
        encode_texts(["x"], TextConfig(model=str(tmp_path / "nope")))
    assert "\n" not in str(err.value)


def test_non_bert_model_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(UsageError, match="not a BERT-family encoder"):
        encode_texts(["x"], TextConfig(model=str(tmp_path)))
    (tmp_path / "config.json").unlink()
    with pytest.raises(UsageError, match="no config.json"):
        encode_texts(["x"], TextConfig(model=str(tmp_path)))


def test_unknown_encoder_name_lists_valid_ones() -> None:
    with pytest.raises(UsageError, match="valid: transformers"):
        ENCODERS.get("word2vec")


def test_item_texts_join_present_fields() -> None:
    items = pl.DataFrame({"item_id": ["a", "b", "c"], "title": ["Red mug", "Bag", "Box"],
                          "description": [None, "A jumbo bag", "Box"], "category": ["kitchen", None, ""]})
    assert item_texts(items) == ["Red mug. kitchen", "Bag. A jumbo bag", "Box"]
    assert item_texts(items, TextConfig(fields=["title"])) == ["Red mug", "Bag", "Box"]


def test_item_embeddings_cached_per_model_and_text(tiny_bert: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    items = pl.DataFrame({"item_id": ["1", "2"], "title": ["red heart", "jumbo bag"]})
    items.write_parquet(tmp_path / "items.parquet")
    cfg = TextConfig(model=str(tiny_bert))
    first = item_embeddings(tmp_path, cfg)
    assert len(list((tmp_path / "text").glob("embeddings-*.npy"))) == 1

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged catalogue was encoded twice")

    monkeypatch.setattr(enc_mod, "encode_texts", boom)
    np.testing.assert_array_equal(item_embeddings(tmp_path, cfg), first)
    monkeypatch.undo()
    pl.DataFrame({"item_id": ["1", "2"], "title": ["red heart", "white mug"]}).write_parquet(tmp_path / "items.parquet")
    second = item_embeddings(tmp_path, cfg)
    assert len(list((tmp_path / "text").glob("embeddings-*.npy"))) == 2
    np.testing.assert_allclose(second[0], first[0], atol=1e-6)
    assert not np.allclose(second[1], first[1])


def test_real_minilm_matches_sentence_transformers() -> None:
    st = pytest.importorskip("sentence_transformers")
    from graphassoc.text.encoder import default_model_dir

    texts = TITLES[:5]
    ours = encode_texts(texts)
    ref = st.SentenceTransformer(str(default_model_dir()), device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == (5, 384)
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    # Semantics survive: the two heart items are closer to each other than to the cake stand.
    sims = ours @ ours.T
    assert sims[0, 4] > sims[2, 4]


def test_int8_encoder_stays_close_to_fp32() -> None:
    """text.quantize=int8 (dynamic quantisation of the Linear layers) on the real MiniLM: each embedding
    keeps a cosine >= 0.9 with its fp32 one (0.93-0.97 measured on these titles), and every title keeps
    its nearest other title (whose cosine leads the next one by >= 0.05 here)."""
    texts = TITLES[:5] + ["PINK HEART LUNCH BAG", "GLASS CAKE STAND", "SET OF 3 RED MUGS"]
    fp32 = encode_texts(texts, TextConfig())
    int8 = encode_texts(texts, TextConfig(quantize="int8"))
    assert int8.shape == fp32.shape and not np.array_equal(int8, fp32)  # it really ran quantised
    assert (fp32 * int8).sum(axis=1).min() >= 0.9
    nearest = [np.argsort(-(e @ e.T), axis=1)[:, 1] for e in (fp32, int8)]
    assert nearest[0].tolist() == nearest[1].tolist()


def test_long_encodings_report_progress(tiny_bert: Path) -> None:
    texts = [f"item number {i} with words" for i in range(95)]
    heard: list[str] = []
    vectors = encode_texts(texts, TextConfig(model=str(tiny_bert), batch_size=8), progress=heard.append)
    assert vectors.shape[0] == 95
    counts = [int(m.split()[1]) for m in heard]
    # about every tenth of the way, in whole batches, counting up, never at 0 or the end
    assert counts == sorted(counts) and 5 <= len(counts) <= 11
    assert all(c % 8 == 0 and 0 < c < 95 for c in counts) and all(m.endswith("/ 95 texts") for m in heard)
