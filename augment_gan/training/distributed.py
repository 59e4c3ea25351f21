"""Distributed training with torchrun: process-group setup, sharding and the launcher.

Launched by ``torchrun`` (or ``augment-gan train --nproc-per-node N``, which re-launches
itself through it), every process runs the same ``train`` command; torchrun's environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT) tells them apart. The backend follows the
device: NCCL on CUDA, gloo on CPU.

The contracts the trainer builds on:

- ``--batch-size`` is the GLOBAL batch. Every rank draws the same global batch of indices
  and noise from the same seeded RNG and keeps its own contiguous shard, so ranks see
  different real images, the RNG stream does not depend on the world size, and a run
  can be resumed with any number of processes.
- Only rank 0 writes (run dir, checkpoints, sample grids, metrics, logs).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from augment_gan.errors import ConfigError

# Rank 0 evaluates checkpoints during training while the others wait at a barrier; the
# default collective timeouts (10 min for NCCL) would kill a long evaluation.
COLLECTIVE_TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class Dist:
    """This process's place in the job; ``Dist()`` is a plain single process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        """Under torchrun (a process group, even of one process: the DDP path runs), or several ranks."""
        return self.world_size > 1 or self.backend is not None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, t: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous share of a tensor drawn for the global batch."""
        if not self.enabled:
            return t
        n = t.shape[0] // self.world_size
        return t[self.rank * n : (self.rank + 1) * n]

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def broadcast(self, obj: object) -> object:
        """Rank 0's ``obj`` on every rank (any picklable object)."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def mean(self, values: list[float], device: torch.device) -> list[float]:
        """Element-wise mean of ``values`` over all ranks."""
        if not self.enabled:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return (t / self.world_size).tolist()

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when ``flag`` is true on any rank (a stop request, say)."""
        if not self.enabled:
            return flag
        t = torch.tensor([int(flag)], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())


def launched_by_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_distributed(device: torch.device) -> tuple[Dist, torch.device]:
    """Join the process group torchrun set up; returns (Dist, this rank's device).

    Without torchrun's environment this is a no-op: ``Dist()``. Under torchrun with one
    process the group is still made, so DDP, NCCL and SyncBatchNorm run (the GPU check)."""
    if not launched_by_torchrun():
        return Dist(), device
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"local rank {local_rank} has no GPU: this node has {torch.cuda.device_count()}; "
                "use --nproc-per-node <= the number of GPUs."
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, timeout=COLLECTIVE_TIMEOUT)
    return Dist(rank=rank, world_size=world_size, local_rank=local_rank, backend=backend), device


def shutdown_distributed(synchronize: bool = True) -> None:
    """Leave the process group.

    synchronize: wait for every rank first, the normal end. Pass False on an error path,
    where the other ranks may never arrive."""
    if dist.is_available() and dist.is_initialized():
        if synchronize:
            dist.barrier()
        dist.destroy_process_group()


def exit_worker(main: Callable[[], object]) -> None:
    """Run a torchrun worker's ``main`` and end the process with its exit code, skipping the
    interpreter's teardown.

    A gloo worker can abort in that teardown even after ``destroy_process_group``: gloo's
    threads still hold work objects whose tensors Python frees while it shuts down
    ("terminate called without an active exception", rc -6; 5 runs in 50 of the two-process
    test here, pytorch/pytorch#179291). So collect garbage while the interpreter is whole,
    flush logs and streams, and leave with ``os._exit``."""
    code = 0
    try:
        main()
    except SystemExit as e:  # typer, click and sys.exit end this way
        if isinstance(e.code, int) or e.code is None:
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - print it as the interpreter would, then leave
        traceback.print_exc()
        code = 1
    gc.collect()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def torchrun_command(
    train_args: list[str],
    nproc_per_node: int,
    nnodes: str = "1",
    rdzv_endpoint: str | None = None,
    rdzv_id: str = "augment-gan",
    command: str = "train",
) -> list[str]:
    """The torchrun command line that runs ``augment-gan <command> <train_args>`` N times
    (``command``: ``train`` or ``resume``).

    One node: ``--standalone`` (torchrun picks a free port). Several nodes: c10d rendezvous
    at ``rdzv_endpoint`` (host:port of any one node), the same command on every node."""
    if nproc_per_node < 1:
        raise ConfigError(f"--nproc-per-node must be >= 1, got {nproc_per_node}.")
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc_per_node}"]
    if nnodes == "1" and rdzv_endpoint is None:
        cmd.append("--standalone")
    else:
        if rdzv_endpoint is None:
            raise ConfigError("training on several nodes needs --rdzv-endpoint HOST:PORT (any one node's address).")
        cmd += [f"--nnodes={nnodes}", "--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv_endpoint}", f"--rdzv-id={rdzv_id}"]
    return cmd + ["-m", "augment_gan.cli", command, *train_args]


LAUNCHER_OPTIONS = ("--nproc-per-node", "--nnodes", "--rdzv-endpoint")


def strip_launcher_options(args: list[str]) -> list[str]:
    """``args`` without the launcher's own options (``--opt value`` and ``--opt=value``)."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in LAUNCHER_OPTIONS:
            skip = True
        elif not arg.startswith(tuple(o + "=" for o in LAUNCHER_OPTIONS)):
            out.append(arg)
    return out


def relaunch_train(
    argv: list[str], nproc_per_node: int, nnodes: str, rdzv_endpoint: str | None, command: str = "train"
) -> tuple[int, bool]:
    """Run this ``train`` (or ``resume``) command again under torchrun: (torchrun's exit status, interrupted).

    ``argv``: this process's command line (``sys.argv``), with ``command`` in it.
    Ctrl-C is left to torchrun, which forwards it once to every worker: they finish the
    step, rank 0 checkpoints, and all exit (torchrun then reports the signal)."""
    import signal
    import subprocess

    if command not in argv:
        raise ConfigError(
            f"re-launching under torchrun needs the `{command}` command line; from Python, "
            "run your script under torchrun instead."
        )
    train_args = strip_launcher_options(argv[argv.index(command) + 1 :])
    cmd = torchrun_command(train_args, nproc_per_node, nnodes, rdzv_endpoint, command=command)
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    try:
        return subprocess.run(cmd).returncode, bool(interrupted)
    finally:
        signal.signal(signal.SIGINT, previous)
