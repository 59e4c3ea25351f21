"""The GPU check: every CUDA path of the toolkit, run and timed in one call (sized for <= 8 min on
a GPU; not yet timed on one).

Five parts, each timed against the CPU in the same run (ratios, never figures from another
machine), each written to ``<out>/<part>.json`` as soon as it ends, and a summary to
``<out>/summary.json``. A part that fails is recorded with its error and the others still run;
the exit code is 1 if any failed.

1. ``train_speed``: ``Trainer.train_step`` seconds and images/s at 32, 64 and 128 px (the
   default nets, 3-channel photo crops), fp32 vs bf16 autocast, channels_last off/on, batch 64
   and 256; the CPU's fp32 at batch 64 beside them.
2. ``ddp``: ``augment-gan train --nproc-per-node 1`` (torchrun, NCCL on CUDA); its metrics say
   the backend, the world size and whether G's BatchNorm became SyncBatchNorm.
3. ``onnx_generation``: onnxruntime's CUDA provider against its CPU provider at batch 1, 64
   and 1024 (32 and 128 px default generators), and that opening the sessions printed nothing.
4. ``service``: ``bentoml serve`` with the CUDA provider, images/s and latency at concurrency
   8 and 32 (16 images per request), against the same calls made in-process on the CPU.
5. ``time_to_quality``: ``time_to_quality.py``'s split and measurement with a GPU-sized step
   budget (needs the MNIST t10k folder: ``--mnist``).

On a GPU machine (the repository root, the venv built)::

    .venv/bin/python -m benchmarks.gpu_check            # -> benchmarks/results/gpu/

On the H200 this project is sometimes lent (its own Python 3.12 image: torch, but no BentoML
and a CPU-only onnxruntime), ``benchmarks/device_prepare.sh`` here, then one device call of
``benchmarks/device_gpu_check.sh`` (each script says how).

``--quick`` runs every part at toy sizes on whatever device there is (CPU in CI: bf16 and
channels_last, which need CUDA, are listed as skipped), so the script is known to work
before a GPU ever runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import common
from .photos_128 import write_photo_folder

REPO = common.REPO
PARTS = ("train_speed", "ddp", "onnx_generation", "service", "time_to_quality")
TINY = {"g_width": 4, "d_width": 4}
PRESETS = {  # quick: toy sizes on whatever device there is (CI runs it on CPU)
    "full": {
        "photos": {"major": 64, "minor": 16},
        "nets": {},  # the default nets
        "warmup_steps": 3,
        "train_batches": (64, 256),
        "timed_steps": 10,
        "ddp": {"steps": 40, "batch": 64},
        "onnx_batches": (1, 64, 1024),
        "onnx_repeats": 20,
        "service": {"count": 16, "requests": 200},
        "time_to_quality": ["--steps", "3000", "--every", "500"],
    },
    "quick": {
        "photos": {"major": 12, "minor": 6},
        "nets": TINY,
        "warmup_steps": 1,
        "train_batches": (8,),
        "timed_steps": 3,
        "ddp": {"steps": 2, "batch": 8},
        "onnx_batches": (1, 8),
        "onnx_repeats": 3,
        "service": {"count": 4, "requests": 16},
        "time_to_quality": ["--quick"],
    },
}


class Check:
    """What every part is given: the device, quick or not, a scratch dir and a log."""

    def __init__(self, preset: str, device: torch.device, tmp: Path, out: Path, mnist: Path) -> None:
        self.preset, self.budget = preset, PRESETS[preset]
        self.device, self.tmp, self.out, self.mnist = device, tmp, out, mnist
        self.t0 = time.perf_counter()
        self._folder: Path | None = None

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def log(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}", flush=True)

    def folder(self) -> Path:
        """Six classes of real photo crops (photos_128.py), written once."""
        if self._folder is None:
            self._folder = self.tmp / "photos"
            write_photo_folder(self._folder, self.budget["photos"])
        return self._folder


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- 1. training speed ------------------------------------------------------------------
def time_steps(
    check: Check, resolution: int, batch: int, precision: str, channels_last: bool, device: torch.device, steps: int
) -> dict[str, Any]:
    from augment_gan.data import load_image_folder
    from augment_gan.nets import NetConfig
    from augment_gan.run import TrainConfig
    from augment_gan.training import Trainer

    data = load_image_folder(check.folder(), resolution=resolution, channels=3, progress=False)
    net = NetConfig(num_classes=len(data.classes), resolution=resolution, channels=3, **check.budget["nets"])
    run = check.tmp / f"speed-{resolution}-{batch}-{precision}-{channels_last}-{device.type}"
    trainer = Trainer(
        run,
        data.images,
        data.labels,
        net,
        TrainConfig(batch_size=batch),
        device,
        precision=precision,
        channels_last=channels_last,
    )
    for _ in range(check.budget["warmup_steps"]):  # warm-up: cuDNN's algorithm search, allocator
        trainer.train_step()
    times = []
    for _ in range(steps):
        synchronize(device)
        t0 = time.perf_counter()
        trainer.train_step()
        synchronize(device)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    del trainer
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return {
        "resolution": resolution,
        "batch_size": batch,
        "precision": precision,
        "channels_last": channels_last,
        "device": device.type,
        "median_sec_per_step": round(med, 5),
        "images_per_s": round(batch / med, 1),
        "steps_timed": steps,
    }


def train_speed(check: Check) -> dict[str, Any]:
    resolutions = (32, 64, 128)
    batches = check.budget["train_batches"]
    cpu = torch.device("cpu")
    rows, not_run = [], []
    cpu_rows = {}
    for resolution in resolutions:  # the CPU reference: fp32, the first batch size
        cpu_rows[resolution] = time_steps(check, resolution, batches[0], "fp32", False, cpu, 2)
        check.log(f"train_speed cpu {resolution}px: {cpu_rows[resolution]['images_per_s']} images/s")
    for resolution in resolutions:
        for batch in batches:
            for precision in ("fp32", "bf16"):
                for channels_last in (False, True):
                    if not check.cuda and (precision == "bf16" or channels_last):
                        not_run.append(
                            {
                                "resolution": resolution,
                                "batch_size": batch,
                                "precision": precision,
                                "channels_last": channels_last,
                                "why": "needs CUDA",
                            }
                        )
                        continue
                    row = (
                        cpu_rows[resolution]
                        if not check.cuda
                        else time_steps(
                            check,
                            resolution,
                            batch,
                            precision,
                            channels_last,
                            check.device,
                            check.budget["timed_steps"],
                        )
                    )
                    base = cpu_rows[resolution]["images_per_s"]
                    row = {**row, "ratio_to_cpu_fp32": round(row["images_per_s"] / base, 2)}
                    rows.append(row)
                    check.log(
                        f"train_speed {check.device.type} {resolution}px b{batch} {precision} "
                        f"cl={channels_last}: {row['images_per_s']} images/s ({row['ratio_to_cpu_fp32']}x CPU)"
                    )
    return {
        "rows": rows,
        "cpu_reference": list(cpu_rows.values()),
        "not_run": not_run,
        "nets": check.budget["nets"] or "the default",
    }


# --- 2. DDP under torchrun ----------------------------------------------------------------
def ddp(check: Check) -> dict[str, Any]:
    from augment_gan.contracts.run_dir import RunDir

    models = check.tmp / "ddp-models"
    steps = check.budget["ddp"]["steps"]
    nets = [x for k, v in check.budget["nets"].items() for x in (f"--{k.replace('_', '-')}", str(v))]
    cmd = [
        sys.executable,
        "-m",
        "augment_gan.cli",
        "train",
        str(check.folder()),
        "--name",
        "ddp",
        "--models-dir",
        str(models),
        "--resolution",
        "64",
        "--steps",
        str(steps),
        "--checkpoint-every",
        str(steps),
        "--batch-size",
        str(check.budget["ddp"]["batch"]),
        "--device",
        check.device.type,
        "--nproc-per-node",
        "1",
        *nets,
    ]
    t0 = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"torchrun train exited {done.returncode}: {done.stderr[-2000:]}")
    (run_dir,) = (models / "ddp" / "runs").iterdir()
    records = RunDir(run_dir).read_metrics()
    start = next(r for r in records if r.get("event") == "start")
    result = {
        "command": " ".join(cmd[1:]),
        "seconds": round(seconds, 1),
        "steps": steps,
        "checkpoints": [s for s, _ in RunDir(run_dir).checkpoints()],
        **{
            k: start.get(k) for k in ("device", "world_size", "backend", "precision", "channels_last", "sync_batchnorm")
        },
    }
    expected = {"world_size": 1, "backend": "nccl" if check.cuda else "gloo", "sync_batchnorm": check.cuda}
    wrong = {k: (result[k], v) for k, v in expected.items() if result[k] != v}
    if wrong or result["checkpoints"][-1] != steps:
        raise RuntimeError(
            f"the run did not train as expected: {wrong} (got, expected); checkpoints {result['checkpoints']}"
        )
    return result


# --- 3. onnxruntime: CUDA provider against CPU ----------------------------------------------
@contextlib.contextmanager
def captured_fd2() -> Iterator[dict[str, str]]:
    """Everything written to file descriptor 2 (onnxruntime's C++ logger included)."""
    box: dict[str, str] = {}
    with tempfile.TemporaryFile() as f:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            yield box
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            f.seek(0)
            box["text"] = f.read().decode(errors="replace")


def default_generator_onnx(resolution: int, nets: dict[str, int], classes: list[str]) -> bytes:
    from augment_gan.export.onnx_export import export_generator_onnx, export_metadata
    from augment_gan.nets import Generator, NetConfig

    cfg = NetConfig(num_classes=len(classes), resolution=resolution, channels=3, **nets)
    torch.manual_seed(0)
    return export_generator_onnx(Generator(cfg).eval(), cfg, export_metadata(classes, cfg, name="check", version=1))


def images_per_s(session: Any, latent_dim: int, batch: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    feed = {
        "z": rng.standard_normal((batch, latent_dim), dtype=np.float32),
        "label": (np.arange(batch) % 6).astype(np.int64),
    }
    session.run(None, feed)  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        session.run(None, feed)
    return round(batch * repeats / (time.perf_counter() - t0), 1)


def onnxruntime_without_cuda(check: Check) -> dict[str, Any] | None:
    """A skip record when a GPU is here but this onnxruntime build has no CUDA provider
    (the CPU wheel, ``onnxruntime``, instead of ``onnxruntime-gpu``): nothing to measure."""
    import onnxruntime

    if check.cuda and "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        return {
            "skipped": f"onnxruntime {onnxruntime.__version__} here is a CPU-only build (providers "
            f"{onnxruntime.get_available_providers()}); install onnxruntime-gpu to measure this part"
        }
    return None


def onnx_generation(check: Check) -> dict[str, Any]:
    from augment_gan.runtime.providers import CPU, open_session

    if skip := onnxruntime_without_cuda(check):
        return skip

    classes = [f"c{i}" for i in range(6)]
    batches = check.budget["onnx_batches"]
    rows = []
    with captured_fd2() as noise:
        for resolution in (32, 128):
            model = default_generator_onnx(resolution, check.budget["nets"], classes)
            auto, cpu = open_session(model), open_session(model, providers=[CPU])
            used = auto.get_providers()[0]
            for batch in batches:
                reps = 3 if batch == 1024 else check.budget["onnx_repeats"]
                row = {
                    "resolution": resolution,
                    "batch": batch,
                    "auto_provider": used,
                    "auto_images_per_s": images_per_s(auto, 128, batch, reps),
                    "cpu_images_per_s": images_per_s(cpu, 128, batch, 2 if batch == 1024 else reps),
                }
                row["ratio"] = round(row["auto_images_per_s"] / row["cpu_images_per_s"], 2)
                rows.append(row)
                check.log(
                    f"onnx {resolution}px batch {batch}: {used} {row['auto_images_per_s']} images/s, CPU "
                    f"{row['cpu_images_per_s']} ({row['ratio']}x)"
                )
    if check.cuda and any(r["auto_provider"] != "CUDAExecutionProvider" for r in rows):
        raise RuntimeError(f"a GPU is here but onnxruntime did not use CUDA: {[r['auto_provider'] for r in rows]}")
    if noise["text"].strip():
        raise RuntimeError(f"opening or running the sessions printed to stderr: {noise['text'][:2000]}")
    return {"rows": rows, "stderr_bytes": len(noise["text"]), "onnxruntime": __import__("onnxruntime").__version__}


# --- 4. the service ---------------------------------------------------------------------------
def service(check: Check) -> dict[str, Any]:
    if skip := onnxruntime_without_cuda(check):
        return skip
    import requests

    from augment_gan.nets import NetConfig
    from augment_gan.runtime import OnnxGenerator
    from tests.export.helpers import write_tiny_model  # a model dir around any generator.onnx

    from .server import Server
    from .service_load import JSON, inprocess, load_level

    classes = [f"c{i}" for i in range(6)]
    nets = check.budget["nets"]
    cfg = NetConfig(num_classes=len(classes), resolution=32, channels=3, **nets)
    model = write_tiny_model(check.tmp / "service-models", default_generator_onnx(32, nets, classes), cfg, classes)
    count, n_requests = check.budget["service"]["count"], check.budget["service"]["requests"]
    cpu_gen = OnnxGenerator.load(model, providers=["CPUExecutionProvider"])
    levels = []
    with Server(model, check.tmp / "server.log", AUGMENT_GAN_GPU="1" if check.cuda else "0") as server:
        info = requests.get(f"{server.url}/model", timeout=30).json()
        for concurrency in (8, 32):
            level = load_level(server.url, classes[0], count, JSON, max(n_requests, concurrency), concurrency)
            levels.append(level)
            check.log(
                f"service c={concurrency}: {level['images_per_s']} images/s, p50 {level['p50_ms']} ms, "
                f"p99 {level['p99_ms']} ms, {level['errors']} errors ({info['providers']})"
            )
    base = inprocess(cpu_gen, 0, count, JSON, max(8, n_requests // 4))
    for level in levels:
        level["ratio_to_inprocess_cpu"] = round(level["images_per_s"] / base, 2)
    if check.cuda and "CUDAExecutionProvider" not in info["providers"]:
        raise RuntimeError(f"the service did not use CUDA: providers {info['providers']}")
    if any(level["errors"] for level in levels):
        raise RuntimeError(f"the service answered errors: {[level['error_examples'] for level in levels]}")
    return {
        "providers": info["providers"],
        "images_per_request": count,
        "levels": levels,
        "inprocess_cpu_images_per_s": base,
    }


# --- 5. time to quality -----------------------------------------------------------------------
def time_to_quality(check: Check) -> dict[str, Any]:
    if not check.mnist.is_dir():
        return {"skipped": f"no MNIST t10k folder at {check.mnist} (--mnist)"}
    out = check.out / "time_to_quality.json"
    budget = check.budget["time_to_quality"]
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.time_to_quality",
        "--variants",
        "default",
        "--mnist",
        str(check.mnist),
        "--out",
        str(out),
        *budget,
    ]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=360)
    if done.returncode:
        raise RuntimeError(f"benchmarks.time_to_quality exited {done.returncode}: {done.stderr[-2000:]}")
    result = json.loads(out.read_text())["variants"]["default"]
    return {
        "command": " ".join(cmd[1:]),
        "steps": result["steps"],
        "sec_per_step": result["sec_per_step_median"],
        "minutes_to_target": result["first_cpu_minutes_meeting_target"],
        "last": result["curve"][-1] if result["curve"] else None,
    }


FUNCTIONS: dict[str, Callable[[Check], dict[str, Any]]] = {
    "train_speed": train_speed,
    "ddp": ddp,
    "onnx_generation": onnx_generation,
    "service": service,
    "time_to_quality": time_to_quality,
}


def machine(device: torch.device) -> dict[str, Any]:
    import onnxruntime

    info = {
        **common.machine(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "device": device.type,
    }
    if device.type == "cuda":
        info.update(
            gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda, bf16=torch.cuda.is_bf16_supported()
        )
    return info


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    p.add_argument("--mnist", type=Path, default=common.DEFAULT_MNIST)
    p.add_argument("--out", type=Path, default=None, help="default benchmarks/results/gpu (quick: gpu-quick)")
    a = common.parse_args(p, PRESETS)
    parts = [x.strip() for x in a.parts.split(",") if x.strip()]
    unknown = [x for x in parts if x not in FUNCTIONS]
    if unknown:
        p.error(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
    from augment_gan.training import pick_device

    device = pick_device("auto")
    if device.type != "cuda" and not a.quick:
        print(
            "no usable CUDA device here: run it on a GPU machine, or with --quick to check it on CPU.", file=sys.stderr
        )
        return 2
    out = a.out or common.RESULTS / ("gpu" if a.preset == "full" else f"gpu-{a.preset}")
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "benchmark": "gpu_check",
        "command": common.command_line(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "preset": a.preset,
        "quick": a.quick,
        "machine": machine(device),
        "versions": common.versions(),
        "code": common.git_state(),
        "parts": {},
    }
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        os.environ.setdefault("AUGMENT_GAN_CACHE_DIR", str(Path(tmp) / "cache"))
        check = Check(a.preset, device, Path(tmp), out, a.mnist)
        for part in parts:
            check.log(f"--- {part}")
            t0 = time.perf_counter()
            try:
                result, status = FUNCTIONS[part](check), "ok"
            except Exception as e:  # recorded; the other parts still run
                result, status = (
                    {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-4000:]},
                    "failed",
                )
                check.log(f"{part} FAILED: {type(e).__name__}: {str(e)[:500]}")
            if status == "ok" and "skipped" in result:
                status = "skipped"
            seconds = round(time.perf_counter() - t0, 1)
            (out / f"{part}.json").write_text(
                json.dumps({"part": part, "status": status, "seconds": seconds, **result}, indent=2) + "\n"
            )
            summary["parts"][part] = {"status": status, "seconds": seconds}
            check.log(f"{part}: {status} in {seconds} s")
        summary["seconds"] = round(time.perf_counter() - check.t0, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary["parts"], indent=2))
    return 1 if any(v["status"] == "failed" for v in summary["parts"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
