"""Open an onnxruntime session on the best usable provider, without noisy failed attempts.

onnxruntime-gpu lists ``CUDAExecutionProvider`` as *available* on any machine, GPU or not,
and asking for it without a driver prints a red error and a warning to stderr before it
falls back to CPU. So CUDA is only tried when a GPU is plausibly present (an NVIDIA device
node and a loadable driver library); only then are the CUDA/cuDNN libraries from the
``nvidia-*`` pip wheels preloaded (``onnxruntime.preload_dlls``), and the attempt runs with
onnxruntime's logger silenced. A GPU that is present but unusable costs one line through
:mod:`logging`, and the session runs on CPU. No torch import here.

Sessions opened here survive a fork (a DataLoader worker): the child keeps its copies of
the parent's sessions alive instead of destroying them, and opens its own to run.

Example::

    session = open_session(onnx_bytes)            # CUDA if really usable, else CPU
    session = open_session(onnx_bytes, providers=["CPUExecutionProvider"], intra_op_threads=1)
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import platform
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import onnxruntime as ort

from augment_gan.errors import ConfigError

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
_ORT_DEFAULT_LOG_SEVERITY = 2  # onnxruntime's own default (warning)
_SILENT = 4  # fatal only
_preloaded = False
_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()  # every session opened here, in this process
_INHERITED: list[Any] = []  # a forked child's copies of its parent's sessions: never destroyed

ProviderSpec = str | tuple[str, dict[str, Any]]


def cuda_plausible() -> bool:
    """True when this onnxruntime build has CUDA and an NVIDIA GPU + driver seem present.

    Cheap and silent: checks device nodes and that the driver library loads; it never
    creates a CUDA context.
    """
    if CUDA not in ort.get_available_providers():
        return False
    system = platform.system()
    if system == "Linux":
        # /dev/dxg: WSL2 exposes the GPU through DirectX; /dev/nvidia0: native driver.
        if not (Path("/dev/nvidia0").exists() or Path("/dev/dxg").exists()):
            return False
        driver = "libcuda.so.1"
    elif system == "Windows":
        driver = "nvcuda.dll"
    else:
        return False
    try:
        ctypes.CDLL(driver)
    except OSError:
        return False
    return True


def _preload_cuda_libraries() -> None:
    """Load CUDA 13 / cuDNN 9 from the nvidia-* wheels once; its prints go to the debug log."""
    global _preloaded
    if _preloaded or not hasattr(ort, "preload_dlls"):
        return
    _preloaded = True
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            ort.preload_dlls()
    except Exception as e:  # missing libraries: the CUDA attempt below will fail cleanly
        log.debug("onnxruntime.preload_dlls failed: %s", e)
    if captured.getvalue().strip():
        log.debug("onnxruntime.preload_dlls: %s", captured.getvalue().strip())


def session_options(intra_op_threads: int | None = None, inter_op_threads: int | None = None) -> ort.SessionOptions:
    """Session options with onnxruntime's per-session log quiet and full graph optimisation."""
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: node placement warnings are not the user's business
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if intra_op_threads is not None:
        options.intra_op_num_threads = int(intra_op_threads)
    if inter_op_threads is not None:
        options.inter_op_num_threads = int(inter_op_threads)
    return options


def _provider_name(spec: ProviderSpec) -> str:
    return spec if isinstance(spec, str) else spec[0]


def _keep_inherited_sessions() -> None:
    """In a forked child: keep every session copied from the parent alive for good.

    A copied session's thread pool refers to the parent's threads; destroying it in the child
    joins threads that do not exist here (a SIGSEGV or a hang). The owner of such a copy
    may be garbage the child's collector frees at any allocation (a DataLoader worker), so
    the pin must come before any Python code runs. Its memory is shared copy-on-write.
    """
    _INHERITED.extend(_OPEN)
    _OPEN.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_keep_inherited_sessions)


def _create(model: bytes, options: ort.SessionOptions, providers: Sequence[ProviderSpec]) -> ort.InferenceSession:
    if all(_provider_name(p) == CPU for p in providers):
        session = ort.InferenceSession(model, options, providers=list(providers))
    else:
        # A failed provider is reported through onnxruntime's process-wide default logger, not
        # the session's, so silence that for the attempt (restored to onnxruntime's default).
        ort.set_default_logger_severity(_SILENT)
        try:
            session = ort.InferenceSession(model, options, providers=list(providers))
        finally:
            ort.set_default_logger_severity(_ORT_DEFAULT_LOG_SEVERITY)
    _OPEN.add(session)
    return session


def open_session(
    model: bytes,
    *,
    providers: str | Sequence[ProviderSpec] = "auto",
    intra_op_threads: int | None = None,
    inter_op_threads: int | None = None,
) -> ort.InferenceSession:
    """An InferenceSession for ``model`` (serialized ONNX).

    ``providers="auto"`` picks CUDA when :func:`cuda_plausible` and it really initialises,
    else CPU. A list is passed to onnxruntime as given (names or ``(name, options)``
    pairs), with CPU appended as the fallback; check ``session.get_providers()`` for what
    was actually used.
    """
    options = session_options(intra_op_threads, inter_op_threads)
    if isinstance(providers, str):
        if providers != "auto":
            raise ConfigError(f"providers must be 'auto' or a list of provider names, got {providers!r}.")
        if not cuda_plausible():
            return _create(model, options, [CPU])
        _preload_cuda_libraries()
        session = _create(model, options, [CUDA, CPU])
        if CUDA not in session.get_providers():
            log.warning(
                "an NVIDIA GPU is present but onnxruntime's CUDA provider did not start "
                "(it needs CUDA 13 and cuDNN 9); generating on CPU."
            )
        return session
    requested = list(providers)
    available = set(ort.get_available_providers())
    unknown = [_provider_name(p) for p in requested if _provider_name(p) not in available]
    if unknown:
        raise ConfigError(f"onnxruntime has no provider(s) {unknown}; available: {sorted(available)}.")
    if any(_provider_name(p) == CUDA for p in requested) and cuda_plausible():
        _preload_cuda_libraries()
    if CPU not in [_provider_name(p) for p in requested]:
        requested.append(CPU)
    session = _create(model, options, requested)
    missing = [_provider_name(p) for p in requested if _provider_name(p) not in session.get_providers()]
    if missing:
        log.warning("onnxruntime could not start %s; using %s.", ", ".join(missing), ", ".join(session.get_providers()))
    return session
