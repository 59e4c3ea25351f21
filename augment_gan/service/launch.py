"""Serve a model over HTTP: ``bentoml serve augment_gan.service.app:AugmentGanService`` in a child process.

No torch and no bentoml import here (the child imports bentoml). :func:`plan` finds the model (the only promoted one by default), refuses an
ungated one unless allowed, and builds the command and environment the service reads
(``AUGMENT_GAN_*``, see :mod:`augment_gan.service.settings`); :func:`run` starts it, forwards SIGTERM
and returns its exit code; :func:`serve` does both.

Example::

    from augment_gan.service import serve
    raise SystemExit(serve("digits", port=3000, workers=2))
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augment_gan.contracts.model_dir import read_card, require_gated, resolve_model_dir, the_promoted_model
from augment_gan.service.auth import read_token_file

SERVICE = "augment_gan.service.app:AugmentGanService"
"""Imported by module name, so an installed package serves from any working dir."""
SHUTDOWN_GRACE_S = 30


@dataclass(frozen=True)
class ServePlan:
    """What :func:`run` starts: the resolved model dir, the command and its environment."""

    model_dir: Path
    url: str
    workers: int
    cmd: list[str]
    env: dict[str, str]


def plan(
    model: str | Path | None = None,
    models_dir: Path = Path("models"),
    *,
    host: str = "127.0.0.1",
    port: int = 3000,
    workers: int = 1,
    threads: int | None = None,
    allow_ungated: bool = False,
    select: bool = True,
    token_file: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> ServePlan:
    """Resolve and check the model and the token file; ModelError or ConfigError if it cannot be served.

    ``token_file``: require its token (:mod:`augment_gan.service.auth`); the child gets the
    file's path, never the token.
    """
    if model is None:
        model = the_promoted_model(models_dir)
    model_dir = resolve_model_dir(model, Path(models_dir)).resolve()
    if not allow_ungated:
        require_gated(model_dir, read_card(model_dir), "--allow-ungated")
    env = {**environ, "AUGMENT_GAN_MODEL": str(model_dir), "AUGMENT_GAN_WORKERS": str(workers)}
    env.pop("AUGMENT_GAN_ALLOW_UNGATED", None)
    if allow_ungated:
        env["AUGMENT_GAN_ALLOW_UNGATED"] = "1"
    env["AUGMENT_GAN_SELECT"] = "1" if select else "0"
    if threads is not None:
        env["AUGMENT_GAN_THREADS"] = str(threads)
    if token_file is not None:
        read_token_file(token_file)
        env.pop("AUGMENT_GAN_API_TOKEN", None)
        env["AUGMENT_GAN_API_TOKEN_FILE"] = str(Path(token_file).resolve())
    cmd = [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host, "--port", str(port)]
    return ServePlan(model_dir, f"http://{host}:{port}", workers, cmd, env)


def run(serve_plan: ServePlan) -> int:
    """Run the server until it exits; 0 when it was stopped (SIGTERM, Ctrl-C), else its exit code.

    ``kill <this pid>`` (systemd, docker stop) stops the server too: SIGTERM is forwarded
    (when called from the main thread, the only one that can handle signals).
    """
    proc = subprocess.Popen(serve_plan.cmd, env=serve_plan.env)
    forward = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.terminate()) if forward else None
    try:
        rc = proc.wait()
    except KeyboardInterrupt:  # Ctrl-C reached bentoml too (same process group): let it shut down
        try:
            rc = proc.wait(SHUTDOWN_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    finally:
        if forward:
            signal.signal(signal.SIGTERM, previous)
    return 0 if rc in (-signal.SIGTERM, -signal.SIGINT) else rc


def serve(
    model: str | Path | None = None,
    models_dir: Path = Path("models"),
    *,
    on_start: Callable[[ServePlan], None] | None = None,
    **options: Any,
) -> int:
    """:func:`plan` (``options``: host, port, workers, threads, allow_ungated, select, token_file), then :func:`run`.

    ``on_start(plan)`` is called just before the server starts (the CLI prints the address).
    """
    serve_plan = plan(model, models_dir, **options)
    if on_start is not None:
        on_start(serve_plan)
    return run(serve_plan)
