"""The service against its own OpenAPI document: schemathesis with all its checks, with the API token on.

Starts ``bentoml serve`` (1 worker) on a model with a token file, then runs
``st run <url>/docs.json --checks all`` (positive and negative cases, ``--max-examples``
per operation, fixed seed, no example database, one worker: the same requests every run)
with the token header. ``ignored_auth`` then also checks that a missing or wrong token is
refused. Reports schemathesis's case and failure counts, and the server's own count of
responses per HTTP status (from its access log), so "0 x 5xx" does not rest on the checker.

Model: ``--model DIR``, else the demo's ``/tmp/demo_run/digits/v1`` if present, else a tiny
random model built here. Results: ``benchmarks/results/contract_fuzz.json``.

    python -m benchmarks.contract_fuzz [--max-examples 400] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import common
from .server import Server, default_model

SEED = 20261130
PRESETS = {"full": {"max_examples": 400}}  # no smoke run: tests/service/test_openapi.py calls fuzz() itself


def schemathesis() -> list[str]:
    st = Path(sys.executable).with_name("st")
    if not st.is_file() and shutil.which("st") is None:
        raise SystemExit("schemathesis is not installed: pip install -e '.[dev]'")
    return [str(st) if st.is_file() else "st"]


def fuzz(model: Path, workdir: Path, max_examples: int, seed: int = SEED) -> dict[str, Any]:
    """Serve ``model`` with a token, run schemathesis against it, and return the counts."""
    token = secrets.token_urlsafe(24)
    (workdir / "token").write_text(token + "\n")
    report = workdir / "schemathesis.json"
    with Server(model, workdir / "server.log", threads=1, AUGMENT_GAN_API_TOKEN_FILE=str(workdir / "token")) as server:
        cmd = [
            *schemathesis(),
            "run",
            f"{server.url}/docs.json",
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            "--header",
            f"Authorization: Bearer {token}",
            "--report-json-path",
            str(report),
        ]
        t0 = time.perf_counter()
        run = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - t0
        statuses = server.statuses()
    if not report.is_file():
        raise RuntimeError(
            f"schemathesis wrote no report (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
        )
    st = json.loads(report.read_text())
    printed = "\n".join(line for line in run.stdout.splitlines() if token not in line)
    return {
        "schemathesis": st["schemathesis_version"],
        "command": " ".join(cmd[1:]).replace(token, "<token>").replace(str(server.url), "<url>"),
        "exit_code": st["exit_code"],
        "operations": st["operations"],
        "test_cases": st["test_cases"],
        "failures": st["failures"],
        "errors": st["errors"],
        "server_responses_by_status": {str(k): v for k, v in statuses.items()},
        "server_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "wall_s": round(wall, 1),
        "output_tail": printed[-4000:] if st["exit_code"] else printed[-600:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--max-examples", type=int, help="cases per operation (schemathesis -n; default 400)")
    parser.add_argument("--out", type=Path, default=None, help="default results/contract_fuzz.json")
    args = common.parse_args(parser, PRESETS)
    budget = common.budget(args, PRESETS[args.preset])
    args.out = args.out or common.default_out("contract_fuzz", args.preset)
    with tempfile.TemporaryDirectory(prefix="contract-fuzz-") as tmp:
        model = args.model or default_model(Path(tmp))
        result = fuzz(model, Path(tmp), budget["max_examples"])
    result["schemathesis_command"] = result.pop("command")
    import bentoml

    result = {
        "benchmark": "contract_fuzz",
        "command": common.command_line(),
        "model": str(args.model or model),
        **result,
        **common.provenance(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    result["versions"]["bentoml"] = bentoml.__version__
    common.finish(result)
    common.write_json(args.out, result)
    cases = result["test_cases"]
    print(
        f"{cases['generated']} cases, {cases['with_failures']} with failures, {len(result['errors'])} errors; "
        f"server responses by status {result['server_responses_by_status']} (5xx: {result['server_5xx']}); "
        f"{result['wall_s']} s -> {args.out}"
    )
    if result["exit_code"] or result["server_5xx"]:
        print(result["output_tail"])
        sys.exit(1)


if __name__ == "__main__":
    main()
