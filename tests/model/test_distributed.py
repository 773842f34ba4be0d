"""`graphassoc train` under torchrun: 2 CPU processes with gloo take the single-process run's steps.

Tolerance: the 2-process step sums each rank's weighted gradient in an all-reduce where one process
sums the whole batch inside cross_entropy's mean: the same terms added in another order, so float32
results differ in the last bits (about 1e-7 relative) and the difference grows a little over the
steps through Adam. Losses and weights are compared to 1e-4, relative and absolute; the ranking
metrics, which a last-bit difference could flip only on an exact tie, must be equal.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from graphassoc.cli.main import app
from graphassoc.model import train
from graphassoc.model.checkpoint import load_tensors
from graphassoc.model.distributed import Distributed
from model_fixtures import FAST, StopTraining, stop_at, tiny_config

runner = CliRunner()
# 120 examples an epoch in batches of 17 over 2 ranks: 9 + 8 per step (uneven weights), and a last
# batch of 1 example, which leaves rank 1 a stand-in of weight 0.
ARGS = FAST + ["train.batch_size=17"]


@pytest.fixture(scope="module")
def single_run(tiny_run_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture run with the single-process model "single" trained in it: the reference."""
    run = tmp_path_factory.mktemp("distributed") / "run"
    shutil.copytree(tiny_run_template, run)
    train(run, tiny_config(run, *ARGS, "train.name=single"))
    return run


def _torchrun(run: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "graphassoc.cli.main", "train", str(run), *sum([["--set", a] for a in ARGS + list(extra)], [])]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _history(run: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (run / "model" / name / "metrics.jsonl").read_text().splitlines()]


def _assert_same_run(run: Path, ddp: str, single: str) -> None:
    a, b = _history(run, ddp), _history(run, single)
    assert [h["epoch"] for h in a] == [h["epoch"] for h in b] == [1, 2, 3]
    assert [h["loss"] for h in a] == pytest.approx([h["loss"] for h in b], rel=1e-4, abs=1e-4)
    for key in ("valid_hr@10", "valid_ndcg@10", "valid_mrr", "valid_new_item_offset"):
        assert [h[key] for h in a] == [h[key] for h in b], key
    wa, wb = (load_tensors(run / "model" / n / "model-last" / "model.safetensors") for n in (ddp, single))
    assert wa.keys() == wb.keys()
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=1e-4, atol=1e-4, msg=key)


def test_two_gloo_processes_take_the_single_process_steps(single_run: Path) -> None:
    proc = _torchrun(single_run, "train.name=ddp")
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_same_run(single_run, "ddp", "single")
    # rank 0 alone reported and wrote; nothing partial is left
    assert proc.stderr.count("done in") == 1 and proc.stderr.count("epoch 3: loss") == 1
    assert not list((single_run / "model").glob(".*"))
    assert json.loads((single_run / "model" / "ddp" / "summary.json").read_text())["best_epoch"] == \
        json.loads((single_run / "model" / "single" / "summary.json").read_text())["best_epoch"]


def test_single_process_checkpoint_resumes_on_two(single_run: Path) -> None:
    """A run cut mid-epoch by one process is finished by two: the checkpoint does not depend on the world size."""

    with pytest.raises(StopTraining):
        train(single_run, tiny_config(single_run, *ARGS, "train.name=cut", "train.checkpoint_steps=1"),
              on_step=stop_at(epoch=2, step=3))
    proc = _torchrun(single_run, "train.name=cut", "train.checkpoint_steps=1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resuming cut at epoch 2, step 2" in proc.stderr
    _assert_same_run(single_run, "cut", "single")


def test_shard_weights_the_uneven_last_batch() -> None:
    ranks = [Distributed(r, 3) for r in range(3)]
    assert [d.shard(list(range(7))) for d in ranks] == [[0, 3, 6], [1, 4], [2, 5]]
    assert [d.local_examples for d in ranks] == [3, 2, 2]
    # a rank without an example still steps (every rank joins the all-reduce), with weight 0
    assert [d.shard([9, 8]) for d in ranks] == [[9], [8], [9]] and [d.local_examples for d in ranks] == [1, 1, 0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error when CUDA is absent")
def test_nccl_without_cuda_is_one_line(tiny_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What torchrun sets in each process; the error comes before the process group is joined.
    for key, value in {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": "29511"}.items():
        monkeypatch.setenv(key, value)
    result = runner.invoke(app, ["train", str(tiny_run), "--set", "train.device=cuda"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "nccl" in lines[0] and "train.device=cpu" in lines[0]
    assert not (tiny_run / "model").exists()


def test_world_size_without_torchrun_is_one_line(tiny_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    for key in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    result = runner.invoke(app, ["train", str(tiny_run)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "torchrun" in result.output and "MASTER_ADDR" in result.output


@pytest.mark.parametrize("mode", ["two-stage", "joint"])
def test_fine_tuning_modes_run_on_two_gloo_processes(single_run: Path, tiny_bert_model: Path, mode: str) -> None:
    """The encoder's gradients are all-reduced with the rest: the fine-tuned encoder is saved, its top
    layer changed and its bottom one frozen, and the model answers free text."""
    from safetensors.torch import load_file

    from graphassoc.model import load_model

    name = f"ddp-{mode}"
    proc = _torchrun(single_run, f"train.name={name}", f"train.mode={mode}", "train.epochs=2", "train.finetune_layers=1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("done in") == 1
    before = load_file(str(tiny_bert_model / "model.safetensors"))
    after = load_file(str(single_run / "model" / name / "model-best" / "encoder" / "model.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before if "encoder.layer.1." in k)
    assert all(torch.equal(before[k], after[k]) for k in before if "encoder.layer.0." in k)
    assert load_model(single_run, name).score_texts(["red mug"]).shape == (1, 40)
