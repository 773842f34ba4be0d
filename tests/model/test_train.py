from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from typer.testing import CliRunner

from graphassoc.cli.main import app
from graphassoc.errors import UsageError
from graphassoc.model import load_model, train
from model_fixtures import FAST, StopTraining, stop_at, tiny_config

runner = CliRunner()


def _train(run: Path, *extra: str, **kw):
    return train(run, tiny_config(run, *extra), **kw)


def test_frozen_training_writes_the_documented_layout(tiny_run: Path) -> None:
    result = _train(tiny_run)
    out = tiny_run / "model" / "frozen"
    assert result.out_dir == out
    for name in ("model-best/model.safetensors", "model-best/config.json", "model-best/item_text.safetensors",
                 "model-last/model.safetensors", "metrics.jsonl", "curves.png", "summary.json"):
        assert (out / name).is_file(), name
    assert not list((tiny_run / "model").glob(".*")), "no partial directory left behind"
    # compare's leakage check reads which baskets the model saw: exactly the train split
    from graphassoc.evaluate.leakage import _check_model, baskets_fingerprint
    from graphassoc.runs import Run

    baskets = Run(tiny_run).baskets()
    saved = json.loads((out / "model-best" / "config.json").read_text())
    assert saved["train_baskets_fingerprint"] == baskets_fingerprint(
        baskets.filter(baskets["split"] == "train")["basket_id"].to_list())
    assert "model/frozen/model-best/config.json" in _check_model(tiny_run, baskets)["model_records_checked"]
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    # Early stopping keeps the epoch with the best HR@10 at its calibrated new-item offset.
    ranked = max(history, key=lambda h: (h["valid_new_item_target_met"], h["valid_select"]))
    assert result.best["select"] == ranked["valid_select"] and result.best_epoch == ranked["epoch"]
    newness = json.loads((out / "model-best" / "newness.json").read_text())
    assert (out / "model-best" / "newness.png").is_file()
    model = load_model(tiny_run, "frozen", evidence=("train",))
    assert float(model.net.new_offset) == pytest.approx(newness["chosen"]) == result.best["new_item_offset"]
    assert bool(model.net.tower.on) == newness["tower_on"] == result.best["tower_on"]
    # The reported validation HR@10 is the protocol's, recomputed here from the saved model.
    from graphassoc.evaluate.protocol import exclude_query_items, leave_one_out, rank_of_targets, tiebreak_positions

    index = {item: i for i, item in enumerate(model.items["item_id"].to_list())}
    valid = leave_one_out(baskets, index, "valid", 0)
    scores = exclude_query_items(model.score_baskets(valid.query), valid.query)
    ranks = rank_of_targets(scores, valid.target, tiebreak_positions(model.popularity))
    assert float((ranks <= 10).mean()) == pytest.approx(result.best["hr@10"], abs=1e-4)
    related = pl.read_parquet(tiny_run / "model" / "related.parquet")
    assert related.columns == ["item_id", "related_id", "score", "rank"]
    assert related.height == 40 * 10 and (related["item_id"] != related["related_id"]).all()
    # Nothing pickled: every weight file is safetensors, every config JSON.
    assert not [p for p in out.rglob("*") if p.suffix in (".pt", ".pth", ".pkl", ".bin")]


def test_loaded_model_scores_catalogue_and_texts(tiny_run: Path) -> None:
    _train(tiny_run)
    model = load_model(tiny_run, "frozen")
    scores = model.score_baskets([np.array([0, 1]), np.array([5]), np.array([], dtype=np.int64)])
    assert scores.shape == (3, 40) and scores.dtype == np.float32 and np.isfinite(scores).all()
    texts = model.score_texts(["red mug", "blue box"])
    assert texts.shape == (2, 40) and np.isfinite(texts).all()
    assert model.item_vectors().shape == (40, 16)


def test_new_items_are_scored_through_text_and_beat_chance(tiny_run: Path) -> None:
    # R7/B7 ("red holder", "blue holder") never sold in train; at test time (evidence train + valid)
    # they have sales, but with evidence = train only they are new: the tower must place them.
    _train(tiny_run, "train.epochs=6")
    model = load_model(tiny_run, "frozen", evidence=("train",))
    ids = pl.read_parquet(tiny_run / "items.parquet")["item_id"].to_list()
    new = [ids.index("R7"), ids.index("B7")]
    assert not model.evidence.seen[new].any()
    scores = model.score_baskets([np.array([ids.index("R0")])])[0]
    assert np.isfinite(scores[new]).all()
    # The new items are graph nodes with context: edges come in from their text neighbours.
    targets = model.evidence.edge_index[1].numpy()
    assert all((targets == i).sum() == model.train_cfg.text_neighbours for i in new)


def test_validation_keeps_the_tower_only_where_the_sweep_does_better_with_it(tiny_run: Path, monkeypatch) -> None:
    """model/validation.py sweeps the new-item offset with the tower on and off and keeps the better pair."""
    import graphassoc.model.validation as V
    from graphassoc.config import load_run_config
    from graphassoc.evaluate.protocol import tiebreak_positions
    from graphassoc.model.calibrate import NewItemCalibration
    from graphassoc.model.data import load_data
    from graphassoc.runs import Run

    _train(tiny_run, "train.epochs=1")
    model = load_model(tiny_run, "frozen", evidence=("train",))  # validation's evidence: the train baskets
    cfg = tiny_config(tiny_run)
    data = load_data(Run(tiny_run), cfg, load_run_config(tiny_run).seed)
    pos, net, new = tiebreak_positions(model.popularity), model.net, ~model.evidence.seen.numpy()
    target, cpu = cfg.train.new_item_hr, torch.device("cpu")
    # A tower made to matter: its projection negated (the new items nearest the basket score lowest) at a large scale.
    with torch.no_grad():
        net.tower.query_proj.weight.neg_()
        net.tower.query_proj.bias.neg_()
        net.tower.log_scale.fill_(6.0)

    def sweep(on: bool) -> NewItemCalibration:
        net.tower.on.fill_(float(on))
        net.new_offset.zero_()
        return V.calibrate_new_items(model.score_baskets, new, data.calibration, pos, target, tower_on=on)

    def value(cal: NewItemCalibration) -> tuple:
        return cal.target_met, cal.hr10[cal.offsets.index(cal.chosen)], cal.tower_on

    on, off = sweep(True), sweep(False)
    assert on.hr10 != off.hr10  # the switch changes the scores
    metrics, cal = V.validate(net, model.text, model.evidence, data, pos, target, cpu)
    best = max(on, off, key=value)
    assert (cal.tower_on, cal.chosen) == (best.tower_on, best.chosen) and metrics["tower_on"] == best.tower_on
    assert float(net.tower.on) == float(best.tower_on) and float(net.new_offset) == pytest.approx(best.chosen)
    assert metrics["select"] == best.hr10[best.offsets.index(best.chosen)]

    # The rule on its own: off wins where it is better; on stays where the two are equal.
    def fake(hr_on: float, hr_off: float):
        def calibrate(*_args, tower_on: bool = True, **_kw) -> NewItemCalibration:
            return NewItemCalibration([0.0, 1.0], [hr_on if tower_on else hr_off] * 2, [0.3, 0.3], 1.0, target, True,
                                      10, 2, tower_on)
        return calibrate

    for hr_on, hr_off, kept in ((0.30, 0.31, False), (0.31, 0.31, True), (0.32, 0.31, True)):
        monkeypatch.setattr(V, "calibrate_new_items", fake(hr_on, hr_off))
        metrics, cal = V.validate(net, model.text, model.evidence, data, pos, target, cpu)
        assert cal.tower_on is kept and float(net.tower.on) == float(kept) and metrics["new_item_offset"] == 1.0


def test_same_seed_same_metrics(tiny_run: Path) -> None:
    a = _train(tiny_run, "train.name=a")
    b = _train(tiny_run, "train.name=b")
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]
    assert a.best == b.best


def test_interrupted_run_resumes_to_the_same_result(tiny_run: Path) -> None:
    reference = _train(tiny_run, "train.name=ref", "train.checkpoint_steps=1")

    with pytest.raises(StopTraining):  # resumes from step 2's checkpoint, mid-epoch
        _train(tiny_run, "train.name=cut", "train.checkpoint_steps=1", on_step=stop_at(epoch=2, step=3))
    state = json.loads((tiny_run / "model" / ".cut.partial" / "checkpoint" / "state.json").read_text())
    assert (state["epoch"], state["step_in_epoch"]) == (1, 2) and len(state["epoch_losses"]) == 2
    assert not (tiny_run / "model" / "cut").exists()
    resumed = _train(tiny_run, "train.name=cut", "train.checkpoint_steps=1")
    assert [h["valid_hr@10"] for h in resumed.history] == [h["valid_hr@10"] for h in reference.history]
    # Epoch 2's loss is the mean over all its steps, the two before the cut included (issue 11 item 7).
    assert [h["loss"] for h in resumed.history] == pytest.approx([h["loss"] for h in reference.history], abs=1e-6)


KILL_SCRIPT = """
import os, signal, sys, yaml
from graphassoc.config import load_config
from graphassoc.model import train
run = sys.argv[1]
cfg = load_config(None, sys.argv[2:], base=yaml.safe_load(open(run + "/config.yaml")))
def hook(ev):
    if ev["phase"] == "train" and ev["epoch"] == 2 and ev["step"] == 1:
        os.kill(os.getpid(), signal.SIGKILL)
train(run, cfg, on_step=hook)
"""


def test_kill_9_then_rerun_continues(tiny_run: Path) -> None:
    args = FAST + ["train.checkpoint_steps=1"]
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(tiny_run), *args], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL
    assert not (tiny_run / "model" / "frozen").exists()
    state = json.loads((tiny_run / "model" / ".frozen.partial" / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1
    result = runner.invoke(app, ["train", str(tiny_run), *sum([["--set", a] for a in args], [])])
    assert result.exit_code == 0, result.output
    history = [json.loads(x) for x in (tiny_run / "model" / "frozen" / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3]


@pytest.mark.parametrize("mode", ["two-stage", "joint"])
def test_fine_tuning_modes_change_and_save_the_encoder(tiny_run: Path, tiny_bert_model: Path, mode: str) -> None:
    from safetensors.torch import load_file

    result = _train(tiny_run, f"train.mode={mode}", "train.epochs=2", "train.finetune_layers=1")
    enc_dir = tiny_run / "model" / mode / "model-best" / "encoder"
    assert (enc_dir / "model.safetensors").is_file() and (enc_dir / "config.json").is_file()
    before = load_file(str(tiny_bert_model / "model.safetensors"))
    after = load_file(str(enc_dir / "model.safetensors"))
    top = [k for k in before if "encoder.layer.1." in k]
    bottom = [k for k in before if "encoder.layer.0." in k]
    assert any(not torch.equal(before[k], after[k]) for k in top), "top layer did not learn"
    assert all(torch.equal(before[k], after[k]) for k in bottom), "frozen layer changed"
    assert load_model(tiny_run, mode).score_texts(["red mug"]).shape == (1, 40)
    assert result.mode == mode


def test_no_text_variant_is_its_own_mode(tiny_run: Path) -> None:
    _train(tiny_run, "train.use_text=false")
    model = load_model(tiny_run, "no-text")
    assert model.text is None and model.score_baskets([np.array([0])]).shape == (1, 40)
    with pytest.raises(UsageError, match="without text"):
        model.score_texts(["red mug"])


@pytest.mark.parametrize("gnn", ["gat", "gcn"])
def test_other_gnns_train(tiny_run: Path, gnn: str) -> None:
    result = _train(tiny_run, f"train.gnn={gnn}", "train.epochs=1", "train.tower_items=all")
    assert len(result.history) == 1 and np.isfinite(result.history[0]["loss"])


def test_sgd_and_constant_schedule(tiny_run: Path) -> None:
    result = _train(tiny_run, "train.optimizer=sgd", "train.schedule=constant", "train.epochs=1")
    assert result.history[0]["lr"] == pytest.approx(3e-3)


# --- bad input: one line, non-zero exit, nothing overwritten -------------------------------------

def _one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_missing_model_dir_is_one_line(tiny_run: Path) -> None:
    line = _one_line_error(runner.invoke(app, ["train", str(tiny_run), "--set", "text.model=/no/such/model"]))
    assert "not a directory" in line
    assert not (tiny_run / "model" / "frozen").exists()


def test_not_bert_family_is_one_line(tiny_run: Path, tmp_path: Path) -> None:
    gpt = tmp_path / "gpt"
    gpt.mkdir()
    (gpt / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    line = _one_line_error(runner.invoke(app, ["train", str(tiny_run), "--set", f"text.model={gpt}"]))
    assert "not a BERT-family encoder" in line


def test_run_without_graph_is_one_line(tiny_run: Path) -> None:
    (tiny_run / "graph" / "edges.parquet").unlink()
    line = _one_line_error(runner.invoke(app, ["train", str(tiny_run)]))
    assert "graph/edges.parquet" in line and "build-graph" in line


def test_checkpoint_from_other_config_is_refused(tiny_run: Path) -> None:
    with pytest.raises(StopTraining):
        _train(tiny_run, on_step=stop_at(epoch=2, step=1))
    state = tiny_run / "model" / ".frozen.partial" / "checkpoint" / "state.json"
    before = state.read_text()
    line = _one_line_error(runner.invoke(app, ["train", str(tiny_run), *sum([["--set", a] for a in FAST], []),
                                               "--set", "train.hidden=32"]))
    assert "incompatible config" in line and "train.hidden" in line
    assert state.read_text() == before


def test_existing_model_needs_overwrite(tiny_run: Path) -> None:
    _train(tiny_run, "train.epochs=1")
    before = (tiny_run / "model" / "frozen" / "metrics.jsonl").read_text()
    line = _one_line_error(runner.invoke(app, ["train", str(tiny_run)]))
    assert "--overwrite" in line
    assert (tiny_run / "model" / "frozen" / "metrics.jsonl").read_text() == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error when CUDA is absent")
def test_cuda_asked_but_absent(tiny_run: Path) -> None:
    line = _one_line_error(runner.invoke(app, ["train", str(tiny_run), "--set", "train.device=cuda"]))
    assert "no CUDA device" in line


def test_bad_mode_lists_valid_ones(tiny_run: Path) -> None:
    line = _one_line_error(runner.invoke(app, ["train", str(tiny_run), "--mode", "magic"]))
    assert "train.mode" in line


def test_tune_grid_writes_results_and_best_config(tiny_run: Path, tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("train.hidden: [8, 16]\ntrain.lr: [0.003]\n")
    args = ["tune", str(tiny_run), "--space", str(space), "--trials", "2", "--method", "grid",
            *sum([["--set", a] for a in FAST + ["train.epochs=1"]], [])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pl.read_csv(tiny_run / "tune" / "results.csv")
    assert table.height == 2 and set(table["train.hidden"].to_list()) == {8, 16}
    keys = list(zip(table["valid_new_item_target_met"].to_list(), table["valid_select"].to_list()))
    assert keys == sorted(keys, reverse=True)  # ranked as early stopping ranks epochs
    from graphassoc.config import load_config

    best = load_config(str(tiny_run / "tune" / "best.yaml"))
    assert best.train.hidden == int(table["train.hidden"][0])
    assert not (tiny_run / "model").exists(), "tune trials must not appear as trained models"


def test_sampled_softmax_with_sparse_ease_trains_and_ranks_well(tiny_run: Path) -> None:
    # The large-catalogue path on the tiny run: sampled softmax (8 negatives + in-batch), sparse EASE.
    result = _train(tiny_run, "train.softmax=sampled", "train.negatives=8", "train.sampled_batch_size=32",
                    "ease.method=sparse", "ease.neighbours=6", "train.epochs=2", "train.name=sampled")
    assert result.extra["softmax"] == "sampled"
    assert all(np.isfinite(h["loss"]) for h in result.history)
    # Baskets stay within one of 5 colour families of 8 items: chance HR@10 is ~0.26, the family ~1.
    assert result.best["hr@10"] > 0.6
    model = load_model(tiny_run, "sampled")
    assert model.evidence.ease.sparse is not None and model.score_baskets([np.array([0])]).shape == (1, 40)


def test_an_epoch_reads_at_most_epoch_examples_a_fresh_sample_each_epoch(tiny_run: Path) -> None:
    steps: dict[int, int] = {}
    whole = _train(tiny_run, "train.epochs=1", "train.name=whole",
                   on_step=lambda e: steps.__setitem__(e["epoch"], e["steps"]) if e["phase"] == "train" else None)
    assert steps[1] > 2  # the uncapped epoch is longer than the cap below
    steps.clear()
    seen: list[list[int]] = []
    import graphassoc.model.trainer as trainer_module

    original = trainer_module.Trainer.train_step

    def spy(self, batch, rng, step_rng):
        seen.append(sorted(batch))
        return original(self, batch, rng, step_rng)

    trainer_module.Trainer.train_step = spy
    try:
        _train(tiny_run, "train.epoch_examples=64", "train.epochs=2", "train.name=capped",
               on_step=lambda e: steps.__setitem__(e["epoch"], e["steps"]) if e["phase"] == "train" else None)
    finally:
        trainer_module.Trainer.train_step = original
    assert steps == {1: 2, 2: 2}  # 64 examples / batch 32
    assert len(seen) == 4 and all(len(b) == 32 for b in seen)
    # Each epoch samples its own 64 examples from the whole supervision window.
    assert sorted(seen[0] + seen[1]) != sorted(seen[2] + seen[3])
    assert whole.history and len(whole.history) == 1


def test_saved_model_loads_on_its_own_and_knows_its_whole_catalogue(tiny_run: Path) -> None:
    from graphassoc.model.load import from_pretrained

    _train(tiny_run)
    directory = tiny_run / "model" / "frozen" / "model-best"
    queries = [np.array([0, 1]), np.array([7])]
    np.testing.assert_array_equal(from_pretrained(directory).score_baskets(queries),
                                  load_model(tiny_run, "frozen").score_baskets(queries))
    # Two items swapped far past the first five ids: the catalogue fingerprint (all ids, in order) notices.
    items = pl.read_parquet(tiny_run / "items.parquet")
    order = list(range(items.height))
    order[30], order[31] = order[31], order[30]
    items[order].write_parquet(tiny_run / "items.parquet")
    with pytest.raises(UsageError, match="another catalogue"):
        from_pretrained(directory)


def test_a_model_saved_before_the_tower_switch_loads_with_the_tower_on(tiny_run: Path) -> None:
    from safetensors.torch import load_file, save_file

    _train(tiny_run, "train.epochs=1")
    weights = tiny_run / "model" / "frozen" / "model-best" / "model.safetensors"
    tensors = load_file(weights)
    queries = [np.array([0, 1]), np.array([7])]
    model = load_model(tiny_run, "frozen")
    model.net.tower.on.fill_(1.0)
    with torch.no_grad():
        model.h = model.net.item_vectors(model.text, model.evidence)
    expected = model.score_baskets(queries)
    save_file({k: v for k, v in tensors.items() if k != "tower.on"}, weights)  # the earlier layout
    old = load_model(tiny_run, "frozen")
    assert float(old.net.tower.on) == 1.0
    np.testing.assert_array_equal(old.score_baskets(queries), expected)
