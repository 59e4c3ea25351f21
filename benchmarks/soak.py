"""Soak and faults: 10,000 requests at concurrency 16, a worker killed under load, model files changed on disk.

Three phases against one ``bentoml serve`` (1 worker, per-sample selection on when the model
has a judge), each on its own copy of the model dir:

1. **Soak**: ``--requests`` requests at ``--concurrency``, cycling through every endpoint
   (``/generate`` png and npy, ``/generate_grid``, ``/generate_batch``, ``GET /model``).
   Errors (anything but the expected 200), and the worker's RSS every 250 requests; the growth
   that counts is from the 1,000th request on (warm-up allocations come before it). (It found
   BentoML 1.4.39's per-request timer that kept each request's span for 120 s:
   :mod:`augment_gan.service.bentoml_fixes`.)
2. **Worker killed**: the same load for ``--fault-requests`` requests; after a quarter of
   them the worker gets SIGKILL. Failed requests, seconds until the first success after the
   kill, seconds until ``/readyz`` is 200 again (polled from the kill on), and whether a new
   worker took over.
3. **Files changed on disk**: while serving, ``generator.onnx`` gets one byte flipped and
   ``card.json`` is left as it was. The running worker keeps serving (the session holds the
   bytes it verified); then the server is restarted on the changed dir and must refuse it
   (``bentoml serve`` exits non-zero naming the sha256 mismatch).

Model: ``--model DIR``, else the demo's ``/tmp/demo_run/digits/v1``, else a tiny random model.
Results: ``benchmarks/results/soak.json``.

    python -m benchmarks.soak [--requests 10000] [--concurrency 16] [--model DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from . import common
from .server import SERVICE, Server, default_model, free_port, rss_mib, worker_pids

PRESETS = {"full": {"requests": 10_000, "fault_requests": 2_000}, "quick": {"requests": 300, "fault_requests": 200}}
RSS_EVERY = 250
RSS_FROM = 1000


def label_of(url: str) -> str:
    info = requests.get(f"{url}/model", timeout=30).json()
    return next(c for c in info["classes"] if info["gate"]["per_class"][c]["passed"] or not info["gate"]["ran"])


def one_request(session: requests.Session, url: str, label: str, k: int) -> tuple[bool, str]:
    """Request ``k`` of the cycle; (ok, why-not)."""
    kind = k % 5
    try:
        if kind == 0:
            r = session.post(f"{url}/generate", json={"label": label, "count": 2, "seed": k}, timeout=60)
            ok = r.status_code == 200 and len(r.json()["images"]) == 2
        elif kind == 1:
            r = session.post(
                f"{url}/generate", json={"label": label, "count": 4, "seed": k, "format": "npy"}, timeout=60
            )
            ok = r.status_code == 200 and r.json()["shape"][0] == 4
        elif kind == 2:
            r = session.post(f"{url}/generate_grid", json={"label": label, "count": 4, "seed": k}, timeout=60)
            ok = r.status_code == 200 and r.content[:4] == b"\x89PNG"
        elif kind == 3:
            r = session.post(
                f"{url}/generate_batch", json={"items": [{"label": label, "seed": k}, {"label": label}]}, timeout=60
            )
            ok = r.status_code == 200 and len(r.json()) == 2
        else:
            r = session.get(f"{url}/model", timeout=60)
            ok = r.status_code == 200
        return ok, "" if ok else f"{r.status_code} {r.text[:160]}"
    except (requests.RequestException, ValueError, KeyError) as e:
        return False, repr(e)[:160]


def load(url: str, label: str, n: int, concurrency: int, on_done: Any = None) -> list[tuple[float, bool, str]]:
    """``n`` requests at ``concurrency``; (finish time, ok, why) per request, in finishing order."""
    local = threading.local()
    done: list[tuple[float, bool, str]] = []
    lock = threading.Lock()

    def task(k: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        ok, why = one_request(session, url, label, k)
        with lock:
            done.append((time.monotonic(), ok, why))
            count = len(done)
        if on_done is not None:
            on_done(count)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(task, range(n)))
    return done


def soak(model: Path, workdir: Path, n: int, concurrency: int) -> dict[str, Any]:
    with Server(model, workdir / "soak.log", threads=1) as server:
        label = label_of(server.url)
        (worker,) = worker_pids(server.proc.pid)
        rss: list[tuple[int, float]] = [(0, rss_mib(worker))]
        every, start = min(RSS_EVERY, max(1, n // 10)), min(RSS_FROM, n // 3)

        def sample(count: int) -> None:
            if count % every == 0:
                rss.append((count, round(rss_mib(worker), 1)))

        t0 = time.monotonic()
        done = load(server.url, label, n, concurrency, sample)
        wall = time.monotonic() - t0
        statuses = server.statuses()
    errors = [why for _, ok, why in done if not ok]
    base = next(v for c, v in rss if c >= start)
    growth = (rss[-1][1] - base) / base
    return {
        "requests": n,
        "concurrency": concurrency,
        "errors": len(errors),
        "error_examples": errors[:5],
        "wall_s": round(wall, 1),
        "requests_per_s": round(n / wall, 1),
        "server_responses_by_status": statuses,
        "worker_rss_mib": rss,
        "rss_growth_from_request": start,
        "rss_growth": round(growth, 4),
    }


def worker_killed(model: Path, workdir: Path, n: int, concurrency: int) -> dict[str, Any]:
    with Server(model, workdir / "kill.log", threads=1) as server:
        label = label_of(server.url)
        (victim,) = worker_pids(server.proc.pid)
        killed_at: list[float] = []
        ready_at: list[float] = []

        def watch_ready() -> None:  # from the kill on: when does /readyz answer 200 again?
            time.sleep(0.2)
            while time.monotonic() - killed_at[0] < 120:
                try:
                    if requests.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                        ready_at.append(time.monotonic())
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.05)

        watcher = threading.Thread(target=watch_ready, daemon=True)

        def maybe_kill(count: int) -> None:
            if count == n // 4 and not killed_at:
                killed_at.append(time.monotonic())
                os.kill(victim, signal.SIGKILL)
                watcher.start()

        done = load(server.url, label, n, concurrency, maybe_kill)
        watcher.join(130)
        t_kill = killed_at[0]
        ready_after = round(ready_at[0] - t_kill, 2) if ready_at else None
        new_workers = worker_pids(server.proc.pid)
    failed = [why for _, ok, why in done if not ok]
    after = sorted(t for t, ok, _ in done if ok and t > t_kill)
    return {
        "requests": n,
        "concurrency": concurrency,
        "killed_after_requests": n // 4,
        "failed_requests": len(failed),
        "failure_examples": sorted(set(failed))[:5],
        "first_success_after_kill_s": round(after[0] - t_kill, 2) if after else None,
        "ready_again_after_kill_s": ready_after,
        "worker_restarted": bool(new_workers) and new_workers != [victim],
    }


def files_changed(model: Path, workdir: Path) -> dict[str, Any]:
    copy = workdir / "changed-model"
    shutil.copytree(model, copy)
    onnx = copy / "generator.onnx"
    with Server(copy, workdir / "changed.log", threads=1) as server:
        label = label_of(server.url)
        before = requests.post(
            f"{server.url}/generate", json={"label": label, "count": 2, "seed": 7}, timeout=60
        ).json()
        data = bytearray(onnx.read_bytes())
        data[len(data) // 2] ^= 0xFF
        onnx.write_bytes(bytes(data))
        after = requests.post(f"{server.url}/generate", json={"label": label, "count": 2, "seed": 7}, timeout=60)
        keeps_serving = after.status_code == 200 and after.json()["images"] == before["images"]
    log = workdir / "restart.log"
    env = {
        **os.environ,
        "AUGMENT_GAN_MODEL": str(copy),
        "AUGMENT_GAN_GPU": "0",
        "BENTOML_DO_NOT_TRACK": "True",
        "PYTHONPATH": str(common.REPO),
    }
    t0 = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bentoml", "serve", SERVICE, "--port", str(free_port())],
            cwd=common.REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        rc = proc.wait(120)
    except subprocess.TimeoutExpired:  # it served the changed file: the failure this phase looks for
        os.killpg(proc.pid, signal.SIGKILL)
        rc = None
    text = log.read_text(errors="replace")
    message = next((line.strip() for line in text.splitlines() if "sha256" in line), text[-300:])
    return {
        "running_worker_keeps_serving_same_pixels": keeps_serving,
        "restart_exit_code": rc,
        "restart_refused": rc not in (0, None) and "does not match the sha256" in text,
        "restart_message": message,
        "restart_refused_in_s": round(time.monotonic() - t0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--requests", type=int, help="soak requests (default 10,000)")
    parser.add_argument("--fault-requests", type=int, help="requests while a worker is killed (default 2,000)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", type=Path, default=None, help="default results/soak[-quick].json")
    args = common.parse_args(parser, PRESETS)
    budget = common.budget(args, PRESETS[args.preset])
    args.out = args.out or common.default_out("soak", args.preset)
    args.requests, args.fault_requests = budget["requests"], budget["fault_requests"]
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        model = args.model or default_model(Path(tmp))
        result: dict[str, Any] = {
            "benchmark": "soak",
            "command": common.command_line(),
            "preset": args.preset,
            "model": str(model),
            **common.provenance(),
        }
        for name, run in (
            ("soak", lambda: soak(model, Path(tmp), args.requests, args.concurrency)),
            ("worker_killed", lambda: worker_killed(model, Path(tmp), args.fault_requests, args.concurrency)),
            ("files_changed", lambda: files_changed(model, Path(tmp))),
        ):
            result[name] = run()
            print(name, json.dumps({k: v for k, v in result[name].items() if k != "worker_rss_mib"}), flush=True)
    result["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    common.finish(result)
    common.write_json(args.out, result)
    print(f"wrote {args.out}")
    ok = (
        result["soak"]["errors"] == 0
        and result["soak"]["rss_growth"] <= 0.10
        and result["files_changed"]["running_worker_keeps_serving_same_pixels"]
        and result["files_changed"]["restart_refused"]
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
