"""What every benchmark shares: where things are, a result's provenance, budget presets, the JSON.

A benchmark keeps its budgets as data, ``PRESETS = {"full": {...}, "quick": {...}}``, and
parses its command line with :func:`parse_args`: ``--preset NAME`` picks one (``--quick``
is ``--preset quick``); :func:`budget` then applies any flag named like a preset key
(``--gan-steps`` for ``gan_steps``) over the preset's value. Its result JSON carries :func:`provenance`
(``machine``, ``versions``, ``code``) and is written by :func:`write_json`, which
``benchmarks/collate.py`` reads back to write ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_MNIST = REPO.parent / "shared" / "datasets" / "mnist-t10k"  # MNIST t10k, never copied into the repo
# distributions whose versions a result records (the first installed name of each entry)
PACKAGES = (
    ("augment-gan",),
    ("torch",),
    ("torchvision",),
    ("numpy",),
    ("onnxruntime-gpu", "onnxruntime"),
    ("scikit-learn",),
    ("scipy",),
)


# --- provenance ---------------------------------------------------------------------------
def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's best guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git_state() -> dict[str, Any]:
    """The commit the benchmark ran on and the library files that differed from it."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=10)
            return done.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "head": git("rev-parse", "HEAD"),
        "dirty_files": git("status", "--porcelain", "--", "augment_gan").splitlines(),
    }


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for names in PACKAGES:
        found = None
        for name in names:
            with contextlib.suppress(metadata.PackageNotFoundError):
                found = metadata.version(name)
                break
        out[names[-1]] = found
    return out


def machine() -> dict[str, Any]:
    out: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "cpu_model": cpu_model(),
        "load_average_at_start": load_average(),
    }
    if "torch" in sys.modules:  # only where the benchmark uses torch: importing it costs seconds
        torch = sys.modules["torch"]
        out["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            out["gpu"] = torch.cuda.get_device_name(0)
    return out


def provenance() -> dict[str, Any]:
    """``machine`` (cores, CPU, load), ``versions`` (Python and libraries) and ``code`` (git)."""
    return {"machine": machine(), "versions": versions(), "code": git_state()}


def finish(result: dict[str, Any]) -> None:
    """Note the load average as the benchmark ends (a busy machine explains slow figures)."""
    result.setdefault("machine", {})["load_average_at_end"] = load_average()


def command_line() -> str:
    """How this benchmark was run, as ``python -m benchmarks.<name> ARGS``."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    head = ["python", "-m", spec.name] if spec is not None else ["python", Path(sys.argv[0]).name]
    return " ".join([*head, *sys.argv[1:]])


# --- budgets as data ----------------------------------------------------------------------
def parse_args(
    parser: argparse.ArgumentParser, presets: Mapping[str, Any], default: str = "full"
) -> argparse.Namespace:
    """The arguments, with ``--preset NAME`` (default ``full``) and ``--quick`` (``--preset
    quick``: a smoke run whose figures mean nothing); ``args.quick`` says which."""
    parser.add_argument("--preset", choices=list(presets), default=default, help=f"the budget (default {default})")
    if "quick" in presets:
        parser.add_argument(
            "--quick", dest="preset", action="store_const", const="quick", help="--preset quick: a smoke run"
        )
    args = parser.parse_args()
    args.quick = args.preset == "quick"
    return args


def budget(args: argparse.Namespace, preset: Mapping[str, Any]) -> dict[str, Any]:
    """A preset's values, each replaced by the flag of the same dest (``--gan-steps`` for
    ``gan_steps``) when that flag was given (is not None)."""
    out = dict(preset)
    for key in out:
        value = getattr(args, key, None)
        if value is not None:
            out[key] = value
    return out


def pick(names: str, known, what: str = "variant") -> list[str]:
    """The comma-separated ``names``, each one of ``known`` (else a one-line error naming them)."""
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what}(s) {unknown}; choose from {list(known)}")
    return chosen


def default_out(name: str, preset: str, suffix: str = ".json") -> Path:
    """``results/<name>.json`` for the full budget, ``results/<name>-<preset>.json`` otherwise
    (a smoke run never overwrites a real result)."""
    return RESULTS / (f"{name}{suffix}" if preset == "full" else f"{name}-{preset}{suffix}")


# --- running and writing ------------------------------------------------------------------
def write_json(path: Path, result: Mapping[str, Any]) -> None:
    """The result, indented; paths and numpy scalars as their str/float."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=_plain) + "\n")


def save(path: Path, result: dict[str, Any]) -> None:
    """The finished result (:func:`finish`) written to ``path``, and said so."""
    finish(result)
    write_json(path, result)
    print(f"wrote {path}")


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy and torch scalars
        return value.item()
    return str(value)


def shown_path(path: Path) -> str:
    """A path as the JSON records it: relative to the repository when inside it."""
    path = Path(path)
    return str(path.relative_to(REPO)) if path.is_absolute() and path.is_relative_to(REPO) else str(path)


class Clock:
    """Log lines prefixed with the seconds since the benchmark started."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def log(self, msg: str) -> None:
        print(f"[{self.elapsed():7.1f}s] {msg}", flush=True)


@contextlib.contextmanager
def work_dir(keep: Path | None, prefix: str) -> Iterator[Path]:
    """A scratch dir (``keep``: that dir, kept) whose ``cache/`` holds the judges and decoded
    images, not ~/.cache (a cache dir the caller set is kept)."""
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))) if keep is None else Path(keep)
        work.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("AUGMENT_GAN_CACHE_DIR", str(work / "cache"))
        yield work
