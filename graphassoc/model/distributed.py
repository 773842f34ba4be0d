"""Training on several processes, GPUs or nodes, launched by torchrun: the process group, this process's
rank, the shard of each step's batch, and the all-reduce of the gradients.

    torchrun --nproc_per_node 4 -m graphassoc.cli.main train RUN --set train.device=cuda   (nccl)
    torchrun --nproc_per_node 2 -m graphassoc.cli.main train RUN --set train.device=cpu    (gloo)

torchrun is recognised by its environment (WORLD_SIZE > 1, RANK, LOCAL_RANK); without it every hook
below is a no-op and `graphassoc train` runs as one process, unchanged. From Python, call `train` inside
`process_group(cfg.train.device)`, as cli/train.py does.

How the work is split (the Trainer calls these hooks):
- every rank loads the same run, seeds the same way and draws the same per-epoch examples; each step's
  global batch (train.batch_size examples) is split by position, rank r taking examples r, r+W, ...;
- after backward, the gradients of every trainable parameter (the net's and, in joint mode, the
  encoder's layers) are all-reduced in one flat buffer, each rank's weighted by its number of examples,
  so the step is the single-process step on the same global batch (up to float summation order), also
  when the last batch of an epoch does not split evenly;
- rank 0 alone validates (with the new-item calibration) and hands its metrics to every rank, so all
  ranks take the same early-stopping decision by construction; the others wait meanwhile. Having every
  rank validate would cost the same wall time and each rank's memory, and would stop identically only
  if the scores were bitwise equal on every device: a disagreement would leave a rank hanging in a
  collective;
- rank 0 alone prepares the text first (the embedding cache in RUN/text/, the two-stage encoder), the
  others then load its files; rank 0 alone writes checkpoints, metrics and the final model.

Why an explicit all-reduce and not DistributedDataParallel: DDP hooks into `forward()`, and HybridNet
is used through `item_vectors` + `score`; the joint encoder's layers live outside the net (a second
wrapper); and DDP averages ranks uniformly, which on an uneven last batch is not the single-process
mean. The price: the all-reduce runs after backward instead of overlapping with it (DDP's buckets),
which at this model's size (a small GNN and embeddings; joint mode adds two encoder layers) is a small
share of a step. A resumed run needs the run directory on storage every node sees (the checkpoint is
read by every rank); the world size may differ from the interrupted run's, since the global batch and
the step count do not depend on it.
"""

from __future__ import annotations

import contextlib
import math
import os
from datetime import timedelta
from typing import Any, Callable, Iterator, TypeVar

import torch

from graphassoc.errors import UsageError

T = TypeVar("T")
# Ranks wait at a collective while rank 0 validates or fine-tunes the encoder (two-stage): minutes at
# a large catalogue, far beyond torch's 10-minute nccl default.
GROUP_TIMEOUT = timedelta(hours=2)


def launched() -> bool:
    """Started by torchrun (or an equivalent launcher) with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def backend_for(device_name: str) -> str:
    """nccl for CUDA, gloo for the CPU; one line when the device cannot be had."""
    if device_name.startswith("cuda:"):
        raise UsageError(f"under torchrun use train.device=cuda, not {device_name}: "
                         "each process takes the GPU of its LOCAL_RANK")
    cuda = torch.cuda.is_available()
    if device_name == "cuda" and not cuda:
        raise UsageError("torchrun with train.device=cuda needs CUDA (the nccl backend) and this machine has none; "
                         "use --set train.device=cpu to train on CPUs with gloo")
    if device_name == "cuda" or (device_name == "auto" and cuda):
        local, count = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
        if local >= count:
            raise UsageError(f"process LOCAL_RANK={local} has no GPU of its own (this node has {count}); "
                             f"start torchrun with --nproc_per_node {count} or fewer")
        return "nccl"
    return "gloo"


def _check_launcher_env() -> None:
    missing = [k for k in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if missing:
        raise UsageError(f"WORLD_SIZE={os.environ['WORLD_SIZE']} is set but {', '.join(missing)} is not: "
                         "start distributed training with torchrun, or unset WORLD_SIZE to train as one process")


@contextlib.contextmanager
def process_group(device_name: str) -> Iterator["Distributed"]:
    """Open the process group torchrun asks for (nothing without torchrun) and close it on the way out."""
    if not launched():
        yield Distributed()
        return
    _check_launcher_env()
    backend = backend_for(device_name)
    import torch.distributed as dist

    if backend == "nccl":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))  # device "cuda" now means this process's GPU
    try:
        dist.init_process_group(backend, timeout=GROUP_TIMEOUT)
    except (RuntimeError, ValueError) as exc:  # an unreachable master, a port in use
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot join the process group at {os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} "
                         f"({first}); check torchrun's --rdzv-endpoint / --master-addr") from None
    try:
        yield Distributed.from_env()
        dist.barrier()  # nobody leaves while rank 0 still writes the model
    finally:
        dist.destroy_process_group()


def is_main_process() -> bool:
    return Distributed.from_env().is_main


class Distributed:
    """This process's place in the group; with one process (the default) every hook is a no-op."""

    def __init__(self, rank: int = 0, world: int = 1) -> None:
        self.rank, self.world = rank, world
        self.local_examples = 0  # real examples in this rank's shard of the current step (0: a stand-in)

    @classmethod
    def from_env(cls) -> "Distributed":
        if not launched():
            return cls()
        import torch.distributed as dist

        if not dist.is_initialized():
            raise UsageError(f"WORLD_SIZE={os.environ['WORLD_SIZE']} is set (torchrun) but no process group is open: "
                             "only `graphassoc train` runs under torchrun; from Python call train() inside "
                             "graphassoc.model.distributed.process_group(...)")
        return cls(dist.get_rank(), dist.get_world_size())

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def local_batch_size(self, global_size: int) -> int:
        """Rows of a step on this rank (the sampled softmax's in-batch share, for its inclusion probability)."""
        return math.ceil(global_size / self.world)

    def shard(self, batch: list[T]) -> list[T]:
        """This rank's examples of a global batch: every world-th one from its rank on.

        A rank left without one (a last batch shorter than the world) still steps on a stand-in example
        with weight 0: every rank must join the gradient all-reduce.
        """
        mine = batch[self.rank::self.world]
        self.local_examples = len(mine)
        return mine or batch[:1]

    def average_gradients(self, groups: list[dict[str, Any]], loss: torch.Tensor) -> torch.Tensor:
        """Make every rank's gradients the global batch's mean gradient; return the global mean loss.

        Rank r's gradient is of the mean over its n_r examples: sum_r n_r g_r / sum_r n_r is the gradient
        of the mean over the global batch. One all-reduce carries the weighted gradients, which
        parameters have one (None stays None where no rank produced one, as the optimiser expects), the
        weighted loss and the example count.
        """
        if not self.active:
            return loss
        import torch.distributed as dist

        params = [p for g in groups for p in g["params"]]
        n = float(self.local_examples)
        device = loss.device
        parts = [(p.grad.float() * n).reshape(-1) if p.grad is not None else torch.zeros(p.numel(), device=device)
                 for p in params]
        flags = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=device)
        flat = torch.cat(parts + [flags, (loss.detach().float() * n).reshape(1), torch.tensor([n], device=device)])
        dist.all_reduce(flat)
        total = flat[-1]
        offset = 0
        for k, p in enumerate(params):
            size = p.numel()
            if flat[-(len(params) + 2) + k] > 0:
                p.grad = (flat[offset:offset + size] / total).view_as(p).to(p.dtype)
            offset += size
        return flat[-2] / total

    def on_main(self, fn: Callable[[], T]) -> T:
        """fn() on rank 0 only, its result handed to every rank (validation: one early-stopping decision)."""
        if not self.active:
            return fn()
        import torch.distributed as dist

        box = [fn() if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]  # type: ignore[return-value]

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (it writes RUN/text/'s cache, the two-stage encoder); the others
        then run it and find those files, instead of racing rank 0 to write them."""
        import torch.distributed as dist

        if self.active and not self.is_main:
            dist.barrier()
        yield
        if self.active and self.is_main:
            dist.barrier()

    def start(self, net: torch.nn.Module, groups: list[dict[str, Any]], loop: dict[str, Any]) -> None:
        """Every rank at the same step, from rank 0's weights (as DDP broadcasts them when it wraps a model)."""
        if not self.active:
            return
        import torch.distributed as dist

        where = [None] * self.world
        dist.all_gather_object(where, (loop["epoch"], loop["step_in_epoch"], loop["global_step"]))
        if len(set(where)) > 1:
            raise UsageError(f"the ranks would resume at different steps (epoch, step, global step: {where}); "
                             "the run directory must be on storage every node sees, the same path on each")
        for tensor in [p.data for g in groups for p in g["params"]] + list(net.buffers()):
            dist.broadcast(tensor, src=0)
