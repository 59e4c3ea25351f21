"""Service load: the BentoML server over loopback vs in-process onnxruntime, same work.

Starts ``bentoml serve augment_gan.service.app:AugmentGanService`` (1 worker) on a free loopback
port, then sends a bounded number of ``POST /generate`` requests (``--count`` images each,
PNG format, fixed seeds) at concurrency 1, 8 and 32 (threads + one ``requests.Session``
per thread), recording errors, images/s and p50/p99 latency per level. Next to each level,
the same calls are made in-process on the same model with the same onnxruntime thread
count: ``OnnxGenerator.generate`` alone, and generate + PNG + base64 (what the server does
besides HTTP). The ratio service / in-process is what to read: the machine is shared and
the load generator runs on the same cores as the server. One more level sends the same
images through ``POST /generate_batch`` (``--count`` items per request, concurrency 32) and
reads BentoML's adaptive batch size from ``/metrics``.

Model: ``--model DIR`` if given, else ``/tmp/demo_run/digits/v1`` (the demo's promoted digits
model) if present, else a tiny random model built here (torch, benchmark only). The label
is the first class that passed the gate. Results: ``benchmarks/results/service_load.json``.

    .venv/bin/python benchmarks/service_load.py [--quick] [--model DIR] [--requests 300] [--count 8]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.images import to_pil  # noqa: E402

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py; scripts run from this folder)
from server import Server, default_model  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "service_load.json"
LEVELS = (1, 8, 32)



def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def load_level(url: str, label: str, count: int, n_requests: int, concurrency: int, *, batch: bool = False) -> dict[str, Any]:
    sessions: dict[int, requests.Session] = {}

    def one(k: int) -> tuple[float, bool, str]:
        import threading

        s = sessions.setdefault(threading.get_ident(), requests.Session())
        t0 = time.perf_counter()
        try:
            if batch:  # /generate_batch: `count` items of one image each, merged across requests
                items = [{"label": label, "seed": k * count + j} for j in range(count)]
                r = s.post(f"{url}/generate_batch", json={"items": items}, timeout=120)
                ok = r.status_code == 200 and len(r.json()) == count
            else:
                r = s.post(f"{url}/generate", json={"label": label, "count": count, "seed": k}, timeout=120)
                ok = r.status_code == 200 and len(r.json()["images"]) == count
            why = "" if ok else f"{r.status_code} {r.text[:200]}"
        except requests.RequestException as e:
            ok, why = False, repr(e)
        return time.perf_counter() - t0, ok, why

    with ThreadPoolExecutor(concurrency) as pool:  # warm-up: connections, dispatcher, caches
        list(pool.map(one, range(10**6, 10**6 + concurrency)))
        t0 = time.perf_counter()
        results = list(pool.map(one, range(n_requests)))
        wall = time.perf_counter() - t0
    for s in sessions.values():
        s.close()
    lat = [r[0] for r in results if r[1]]
    errors = [r[2] for r in results if not r[1]]
    return {
        "endpoint": "/generate_batch" if batch else "/generate",
        "concurrency": concurrency,
        "requests": n_requests,
        "errors": len(errors),
        "error_examples": errors[:3],
        "wall_s": round(wall, 3),
        "requests_per_s": round(len(lat) / wall, 2),
        "images_per_s": round(len(lat) * count / wall, 1),
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p99_ms": round(percentile(lat, 99) * 1000, 1),
    }


def inprocess(gen: OnnxGenerator, label: str, count: int, n_calls: int) -> dict[str, float]:
    gen.generate(label, count, seed=0)  # warm-up
    t0 = time.perf_counter()
    for k in range(n_calls):
        gen.generate(label, count, seed=k)
    raw = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(n_calls):
        for image in gen.generate(label, count, seed=k):
            buf = io.BytesIO()
            to_pil(image).save(buf, format="PNG")
            base64.b64encode(buf.getvalue())
    png = time.perf_counter() - t0
    return {"generate_images_per_s": round(n_calls * count / raw, 1), "generate_png_images_per_s": round(n_calls * count / png, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=300, help="requests per concurrency level")
    parser.add_argument("--count", type=int, default=8, help="images per request")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="onnxruntime intra-op threads (both sides)")
    parser.add_argument("--quick", action="store_true", help="40 requests per level: a smoke run")
    parser.add_argument("--out", type=Path, default=None, help="default results/service_load[-quick].json")
    args = parser.parse_args()
    args.out = args.out or (RESULTS.with_name("service_load-quick.json") if args.quick else RESULTS)
    n_requests = 40 if args.quick else args.requests

    with tempfile.TemporaryDirectory(prefix="service-load-") as tmp:
        model = args.model or default_model(Path(tmp))
        gen = OnnxGenerator.load(model, providers=["CPUExecutionProvider"], intra_op_threads=args.threads, allow_ungated=True)
        label = next((c for c in gen.classes if gen.gate_passed(c)), gen.classes[0])
        server = Server(model, Path(tmp) / "server.log", threads=args.threads)
        url = server.url
        levels = []
        try:
            for c in LEVELS:
                base = inprocess(gen, label, args.count, max(20, n_requests // 4))
                level = load_level(url, label, args.count, n_requests, c)
                level["inprocess"] = base
                level["ratio_vs_inprocess_generate"] = round(level["images_per_s"] / base["generate_images_per_s"], 3)
                level["ratio_vs_inprocess_generate_png"] = round(level["images_per_s"] / base["generate_png_images_per_s"], 3)
                levels.append(level)
                print(f"concurrency {c:>2}: {level['images_per_s']:>8.1f} img/s  p50 {level['p50_ms']:>7.1f} ms  "
                      f"p99 {level['p99_ms']:>7.1f} ms  errors {level['errors']}  | in-process {base['generate_images_per_s']:.1f} "
                      f"img/s (with PNG {base['generate_png_images_per_s']:.1f}) -> ratio {level['ratio_vs_inprocess_generate']:.3f}",
                      flush=True)
            base = inprocess(gen, label, args.count, max(20, n_requests // 4))
            batch_level = load_level(url, label, args.count, n_requests, LEVELS[-1], batch=True)
            batch_level["inprocess"] = base
            batch_level["ratio_vs_inprocess_generate"] = round(batch_level["images_per_s"] / base["generate_images_per_s"], 3)
            print(f"/generate_batch, concurrency {LEVELS[-1]}: {batch_level['images_per_s']:.1f} img/s  "
                  f"p50 {batch_level['p50_ms']:.1f} ms  p99 {batch_level['p99_ms']:.1f} ms  errors {batch_level['errors']}  "
                  f"-> ratio {batch_level['ratio_vs_inprocess_generate']:.3f}", flush=True)
            metrics = requests.get(f"{url}/metrics", timeout=10).text
            sums = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                    if line.startswith("bentoml_service_adaptive_batch_size_sum") and "generate_batch" in line]
            counts = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                      if line.startswith("bentoml_service_adaptive_batch_size_count") and "generate_batch" in line]
            if sums and counts and counts[0]:
                batch_level["mean_requests_per_batch"] = round(sums[0] / counts[0], 2)
        finally:
            server.stop()

    import bentoml
    import onnxruntime

    result = {
        "benchmark": "service_load",
        "endpoint": "POST /generate (format png)",
        "model": str(model) if str(model).startswith("/tmp/demo_run") or args.model else "tiny random model (built here)",
        "model_card": {k: gen.card.get(k) for k in ("name", "version", "resolution", "channels", "latent_dim")},
        "label": label,
        "count_per_request": args.count,
        "requests_per_level": n_requests,
        "workers": 1,
        "onnxruntime_threads": args.threads,
        "quick": args.quick,
        "levels": levels,
        "batch_level": batch_level,
        "total_errors": sum(level["errors"] for level in levels) + batch_level["errors"],
        "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version(),
                    "bentoml": bentoml.__version__, "onnxruntime": onnxruntime.__version__},
        "note": "loopback; the load generator shares the CPU with the server; in-process = same model, threads and "
                "images per call, called serially in this process. Ratios are what to read on shared machines.",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    if result["total_errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
