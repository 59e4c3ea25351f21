"""A real ``bentoml serve`` for the service benchmarks: start it on a free loopback port, stop it, read its log.

Used by ``service_load.py``, ``contract_fuzz.py`` and ``soak.py`` (and their tests).
"""

from __future__ import annotations

import collections
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
SERVICE = "augment_gan.service.app:AugmentGanService"
DEMO_MODEL = Path("/tmp/demo_run/digits/v1")
"""The demo's promoted digits model (``augment-gan demo``), the default when present."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_model(root: Path) -> Path:
    """A tiny random model with a judge (torch; benchmark and test only)."""
    import torch

    from tests.export.helpers import CLASSES, gate, write_selecting_model  # run from the repository root

    torch.set_num_threads(1)
    return write_selecting_model(root, CLASSES, name="tiny", gate_block=gate(CLASSES))


def default_model(tmp: Path) -> Path:
    return DEMO_MODEL if (DEMO_MODEL / "card.json").is_file() else tiny_model(tmp / "models")


class Server:
    """``bentoml serve`` in its own process group (1 worker by default), ready when constructed."""

    def __init__(self, model: Path, log: Path, *, threads: int | None = None, ready_s: float = 120, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        path = os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))  # keeps e.g. a --target dir
        full_env = {
            **os.environ,
            "AUGMENT_GAN_MODEL": str(model),
            "AUGMENT_GAN_WORKERS": "1",
            "AUGMENT_GAN_GPU": "0",
            "BENTOML_DO_NOT_TRACK": "True",
            "PYTHONPATH": path,
            **env,
        }
        if threads is not None:
            full_env["AUGMENT_GAN_THREADS"] = str(threads)
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=REPO,
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.wait_ready(ready_s)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float) -> float:
        """Seconds until ``/readyz`` answered 200; RuntimeError/TimeoutError with the log's tail otherwise."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - t0
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"server not ready in {timeout:.0f} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(15)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue

    def statuses(self) -> dict[int, int]:
        """Responses per HTTP status, from the server's access log."""
        return dict(
            sorted(
                collections.Counter(
                    int(s) for s in re.findall(r"\(status=(\d{3}),", self.log.read_text(errors="replace"))
                ).items()
            )
        )

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def worker_pids(server_pid: int) -> list[int]:
    """The BentoML worker processes under ``server_pid`` (``_bentoml_impl.worker``), from /proc."""
    children: dict[int, list[int]] = {}
    cmdlines: dict[int, str] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdlines[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(proc.name))
    found, todo = [], [server_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            if "_bentoml_impl.worker" in cmdlines.get(child, ""):
                found.append(child)
    return sorted(found)


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (VmRSS from /proc); nan if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
