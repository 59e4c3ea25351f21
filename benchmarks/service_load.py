"""Service load: the BentoML server over loopback vs in-process generation of the same bodies.

Starts ``bentoml serve augment_gan.service.app:AugmentGanService`` (1 worker) on a free
loopback port; a separate load-generator process (``load_worker``, threads + one
``requests.Session`` per thread) sends ``POST /generate`` at concurrency 1, 8 and 32 with
1, 16 and 64 images per request, in two formats: JSON with base64 PNGs (the default) and the
raw ``.npy`` body (``Accept: application/x-npy``). Each cell records errors, images/s and
p50/p99 latency. Next to each images-per-request size, this process makes the same bodies
in-process on the same model with the same onnxruntime threads: ``OnnxGenerator.generate``
plus :func:`augment_gan.service.encoding.encode_generate` (what the service runs besides
HTTP), serially, for the same requests as one cell, before, between and after its three
concurrency levels (the mean of the four rounds is the reference: the machine drifts). ``ratio`` = service images/s / in-process images/s in
the same format, measured in this run. The load generator shares the machine's cores with the server, which
is what caps the ratio on a small machine (the JSON records the core count).

Per-sample selection is on when the model has a judge, on both sides.

Model: ``--model DIR``, else the demo's ``/tmp/demo_run/digits/v1`` if present, else a tiny
random model built here (torch, benchmark only). The label is the first class that passed
the gate. Results: ``benchmarks/results/service_load.json``.

    python -m benchmarks.service_load [--quick] [--model DIR] [--images 2048]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import requests

from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.service.encoding import JSON, NPY, encode_generate

from . import common
from .server import Server, default_model

LEVELS = (1, 8, 32)
COUNTS = (1, 16, 64)
PRESETS = {  # images per cell, images per request, requests per cell at least
    "full": {"images": 2048, "counts": COUNTS, "min_requests": 40},
    "quick": {"images": 64, "counts": COUNTS[:2], "min_requests": 8},
}
FORMATS = {"json-png": JSON, "npy": NPY}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def load_worker(url: str, label: str, count: int, media: str, n_requests: int, concurrency: int, out: Any) -> None:
    """In the load-generator process: warm up, then ``n_requests`` at ``concurrency``; sends the summary on ``out``."""
    local = threading.local()
    headers = {"Accept": media}

    def one(k: int) -> tuple[float, bool, str]:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        t0 = time.perf_counter()
        try:
            r = session.post(
                f"{url}/generate", json={"label": label, "count": count, "seed": k}, headers=headers, timeout=120
            )
            if media == NPY:
                ok = r.status_code == 200 and r.headers.get("content-type") == NPY and len(r.content) > 128
            else:
                ok = r.status_code == 200 and len(r.json()["images"]) == count
            why = "" if ok else f"{r.status_code} {r.text[:200]}"
        except (requests.RequestException, ValueError, KeyError) as e:
            ok, why = False, repr(e)[:200]
        return time.perf_counter() - t0, ok, why

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(10**6, 10**6 + concurrency)))  # warm-up: connections, caches
        t0 = time.perf_counter()
        results = list(pool.map(one, range(n_requests)))
        wall = time.perf_counter() - t0
    lat = [r[0] for r in results if r[1]]
    errors = [r[2] for r in results if not r[1]]
    out.send(
        {
            "requests": n_requests,
            "errors": len(errors),
            "error_examples": errors[:3],
            "wall_s": round(wall, 3),
            "images_per_s": round(len(lat) * count / wall, 1),
            "p50_ms": round(percentile(lat, 50) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1),
        }
    )


def load_level(url: str, label: str, count: int, media: str, n_requests: int, concurrency: int) -> dict[str, Any]:
    """One cell, its load generator in its own process (not this one, which measures in-process)."""
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=load_worker, args=(url, label, count, media, n_requests, concurrency, send))
    proc.start()
    result = receive.recv()
    proc.join()
    return {"concurrency": concurrency, **result}


def inprocess(gen: OnnxGenerator, index: int, count: int, media: str, n_calls: int) -> float:
    """Images/s of generate + the service's encoding of the same body, serially, here."""
    encode_generate(gen, index, 0, gen.generate(index, count, seed=0), "png", media)  # warm-up
    t0 = time.perf_counter()
    for k in range(n_calls):
        encode_generate(gen, index, k, gen.generate(index, count, seed=k), "png", media)
    return round(n_calls * count / (time.perf_counter() - t0), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--images", type=int, help="images per cell (at least 40 requests; default 2048)")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="onnxruntime intra-op threads (both sides)"
    )
    parser.add_argument("--out", type=Path, default=None, help="default results/service_load[-quick].json")
    args = common.parse_args(parser, PRESETS)
    budget = common.budget(args, PRESETS[args.preset])
    args.out = args.out or common.default_out("service_load", args.preset)
    images, counts = budget["images"], budget["counts"]

    with tempfile.TemporaryDirectory(prefix="service-load-") as tmp:
        model = args.model or default_model(Path(tmp))
        gen = OnnxGenerator.load(
            model, providers=["CPUExecutionProvider"], intra_op_threads=args.threads, allow_ungated=True
        )
        label = next((c for c in gen.classes if gen.gate_passed(c)), gen.classes[0])
        index = gen.class_index(label)
        levels = []
        with Server(model, Path(tmp) / "server.log", threads=args.threads) as server:
            for fmt, media in FORMATS.items():
                for count in counts:
                    n_requests = max(budget["min_requests"], images // count)
                    rounds, cells = [inprocess(gen, index, count, media, n_requests)], []
                    for c in LEVELS:  # in-process before, between and after the cells: the machine drifts
                        cells.append(
                            {
                                "format": fmt,
                                "count": count,
                                **load_level(server.url, label, count, media, n_requests, c),
                            }
                        )
                        rounds.append(inprocess(gen, index, count, media, n_requests))
                    base = round(float(np.mean(rounds)), 1)
                    for level in cells:
                        level.update(
                            inprocess_images_per_s=base,
                            inprocess_rounds=rounds,
                            ratio=round(level["images_per_s"] / base, 3),
                        )
                        levels.append(level)
                        print(
                            f"{fmt:>8} {count:>2}/req c={level['concurrency']:>2}: {level['images_per_s']:>7.1f} img/s  "
                            f"p50 {level['p50_ms']:>7.1f} ms  p99 {level['p99_ms']:>7.1f} ms  errors {level['errors']}  "
                            f"| in-process {base:.1f} img/s {rounds} -> ratio {level['ratio']:.3f}",
                            flush=True,
                        )

    import bentoml

    def cell(fmt: str, count: int, c: int) -> dict[str, Any] | None:
        return next((lv for lv in levels if (lv["format"], lv["count"], lv["concurrency"]) == (fmt, count, c)), None)

    target = cell("json-png", 16, 32)
    c8 = cell("json-png", 16, 8)
    result = {
        "benchmark": "service_load",
        "command": common.command_line(),
        "preset": args.preset,
        "endpoint": "POST /generate",
        "model": str(model)
        if args.model or str(model).startswith("/tmp/demo_run")
        else "tiny random model (built here)",
        "model_card": {k: gen.card.get(k) for k in ("name", "version", "resolution", "channels", "latent_dim")},
        "selection": gen.selecting,
        "label": label,
        "images_per_cell": images,
        "workers": 1,
        "onnxruntime_threads": args.threads,
        "quick": args.quick,
        "levels": levels,
        "done_when": {
            "json_png_16_per_request_c32_ratio": target and target["ratio"],
            "json_png_16_per_request_c8_p99_over_p50": c8 and round(c8["p99_ms"] / c8["p50_ms"], 2),
            "errors": sum(level["errors"] for level in levels),
        },
        **common.provenance(),
        "note": "loopback; the load generator (its own process) shares the CPU with the server; in-process = same model, "
        "threads, images per call and encoding, called serially in this process between cells.",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    result["versions"]["bentoml"] = bentoml.__version__
    common.finish(result)
    common.write_json(args.out, result)
    print(json.dumps(result["done_when"]))
    print(f"wrote {args.out}")
    if result["done_when"]["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
