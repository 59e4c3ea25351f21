"""Generate images from a model dir with onnxruntime: no torch, no training code.

A model dir is ``generator.onnx`` + ``card.json`` (see :mod:`augment_gan.contracts.model_dir`).
:class:`OnnxGenerator` verifies the onnx file's sha256 against the card, opens a session on
the best usable provider, and turns (class, n, seed) into uint8 images (N, H, W, C).

Determinism: the latent noise for ``generate(label, n, seed=s)`` is
:func:`~augment_gan.runtime.latents.request_latents`, drawn in one piece, so the images do
not depend on ``batch_size``.

Example::

    gen = OnnxGenerator.load("models/digits/v1")
    images = gen.generate("3", 16, seed=0)       # (16, 32, 32, 1) uint8
    gen.gate_passed("3"), gen.providers         # True, ['CPUExecutionProvider']
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from augment_gan.contracts.model_dir import (
    ONNX_NAME,
    ModelCard,
    ModelError,
    gate_passed,
    gate_ran,
    gate_reasons,
    read_card,
    require_gated,
    resolve_model_dir,
    verify_file,
)
from augment_gan.contracts.selection import MAX_ATTEMPTS
from augment_gan.errors import ConfigError
from augment_gan.runtime.images import to_pil
from augment_gan.runtime.latents import request_latents, retry_latent, sample_latents
from augment_gan.runtime.plan import UnknownClassError, class_index
from augment_gan.runtime.providers import ProviderSpec, open_session
from augment_gan.runtime.selection import SampleSelector, SelectionStats

if TYPE_CHECKING:
    import onnxruntime as ort
    from PIL import Image

_REQUIRED = ("classes", "resolution", "channels", "latent_dim")


class OnnxGenerator:
    """An exported generator, ready to sample; safe to pickle (the session is reopened lazily).

    The onnxruntime session belongs to the process that opened it: after pickling (spawned
    DataLoader workers) or a fork, the first call in the new process opens its own.
    """

    def __init__(
        self,
        model_dir: Path,
        card: ModelCard,
        *,
        providers: str | Sequence[ProviderSpec] = "auto",
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = None,
        select: bool = True,
    ) -> None:
        missing = [k for k in _REQUIRED if k not in card]
        if missing:
            raise ModelError(f"{model_dir}/card.json lacks {missing}; re-export the model.")
        self.model_dir = Path(model_dir)
        self.card = card
        self._sha256 = card.get("files", {}).get(ONNX_NAME, {}).get("sha256")
        self.requested_providers = providers
        self.intra_op_threads = intra_op_threads
        self.inter_op_threads = inter_op_threads
        self._session: ort.InferenceSession | None = None
        self._session_pid: int | None = None
        self.select = bool(select)
        self._selector: SampleSelector | None | bool = False  # False: not loaded yet
        self.stats = SelectionStats()

    @classmethod
    def load(
        cls,
        model: str | Path,
        *,
        models_dir: str | Path = "models",
        providers: str | Sequence[ProviderSpec] = "auto",
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = None,
        allow_ungated: bool = True,
        lazy: bool = False,
        select: bool = True,
    ) -> OnnxGenerator:
        """Load a model dir (a path, or a model name -> its PROMOTED version under ``models_dir``).

        Verifies generator.onnx against the card's sha256 (``ModelError`` if modified or
        truncated). ``providers``: "auto" (CUDA when really usable, else CPU) or a list for
        onnxruntime. ``allow_ungated=False`` refuses a model exported without the quality
        gate. ``lazy=True`` defers opening the session to the first generation.
        ``select=False`` turns per-sample selection off (it is on whenever the model dir has
        a judge; see :mod:`augment_gan.runtime.selection`).

        Example::

            gen = OnnxGenerator.load("digits", models_dir="models", intra_op_threads=2)
        """
        model_dir = resolve_model_dir(model, Path(models_dir))
        card = read_card(model_dir)
        verify_file(model_dir, card, ONNX_NAME)
        gen = cls(
            model_dir,
            card,
            providers=providers,
            intra_op_threads=intra_op_threads,
            inter_op_threads=inter_op_threads,
            select=select,
        )
        if select:
            gen.selector  # noqa: B018 - verify judge.onnx and selection.npz now
        if not allow_ungated:
            require_gated(model_dir, card, "allow_ungated=True")
        if not lazy:
            gen.session  # noqa: B018 - open now so provider problems surface at load time
        return gen

    # --- card -----------------------------------------------------------------------
    @property
    def classes(self) -> list[str]:
        return list(self.card["classes"])

    @property
    def resolution(self) -> int:
        return int(self.card["resolution"])

    @property
    def channels(self) -> int:
        return int(self.card["channels"])

    @property
    def latent_dim(self) -> int:
        return int(self.card["latent_dim"])

    @property
    def gate_ran(self) -> bool:
        return gate_ran(self.card)

    def gate_passed(self, label: str | int) -> bool:
        """Whether the quality gate passed this class (False for an ungated model)."""
        return gate_passed(self.card, self.classes[self.class_index(label)])

    def gate_reasons(self, label: str | int) -> list[str]:
        """Why the gate failed this class ([] when it passed)."""
        return gate_reasons(self.card, self.classes[self.class_index(label)])

    def class_index(self, label: str | int) -> int:
        """Index of a class given by name or index; a ValueError-compatible error names the valid ones."""
        return class_index(self.classes, label)

    # --- session --------------------------------------------------------------------
    @property
    def session(self) -> ort.InferenceSession:
        """The onnxruntime session of this process, opened on first use."""
        if self._session is None or self._session_pid != os.getpid():
            self._session = None  # a copy inherited through fork stays pinned by open_session's fork hook
            path = self.model_dir / ONNX_NAME
            data = path.read_bytes()
            # Hash the very bytes we load, so a swap after verify_file cannot slip through.
            if hashlib.sha256(data).hexdigest() != self._sha256:
                raise ModelError(f"{path} does not match the sha256 in card.json: the file was modified or truncated.")
            self._session = open_session(
                data,
                providers=self.requested_providers,
                intra_op_threads=self.intra_op_threads,
                inter_op_threads=self.inter_op_threads,
            )
            self._session_pid = os.getpid()
        return self._session

    @property
    def session_open(self) -> bool:
        """Whether this process already has a session (a forked copy's does not count)."""
        return self._session is not None and self._session_pid == os.getpid()

    @property
    def providers(self) -> list[str]:
        """The providers the session actually uses, best first."""
        return list(self.session.get_providers())

    @property
    def selector(self) -> SampleSelector | None:
        """The model dir's per-sample selector (sha256-checked on first use); None if it has none."""
        if self._selector is False:
            self._selector = SampleSelector.load(self.model_dir, self.card)
        selector = self._selector
        if isinstance(selector, SampleSelector) and not selector.session_open:  # e.g. in a DataLoader worker
            selector.providers, selector.intra_op_threads = self.requested_providers, self.intra_op_threads
        return selector  # type: ignore[return-value]

    @property
    def selecting(self) -> bool:
        """Whether generation keeps only samples that pass per-sample selection."""
        return self.select and self.selector is not None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_session"] = None  # never pickled: each process opens its own
        state["_session_pid"] = None
        return state

    # --- generation -----------------------------------------------------------------
    def generate_from_latents(
        self, z: np.ndarray, labels: np.ndarray | Sequence[int], *, batch_size: int = 256
    ) -> np.ndarray:
        """uint8 images (N, H, W, C) for latents ``z`` (N, latent_dim) and class indices ``labels``."""
        z = np.ascontiguousarray(z, dtype=np.float32)
        labels = np.ascontiguousarray(labels, dtype=np.int64).reshape(-1)
        if z.ndim != 2 or z.shape[1] != self.latent_dim or z.shape[0] != labels.shape[0]:
            raise ConfigError(
                f"z must be (N, {self.latent_dim}) with one label per row; got z {z.shape} and {labels.shape[0]} labels."
            )
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise UnknownClassError(f"labels must be class indices 0-{len(self.classes) - 1} (classes {self.classes}).")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}.")
        out = np.empty((z.shape[0], self.resolution, self.resolution, self.channels), dtype=np.uint8)
        session = self.session
        for start in range(0, z.shape[0], batch_size):
            stop = start + batch_size
            images = session.run(["images"], {"z": z[start:stop], "label": labels[start:stop]})[0]
            out[start:stop] = images.transpose(0, 2, 3, 1)  # NCHW -> NHWC for image consumers
        return out

    def selected(
        self,
        z: np.ndarray,
        labels: np.ndarray | Sequence[int],
        retry: Any,
        *,
        batch_size: int = 256,
        select: bool | None = None,
    ) -> np.ndarray:
        """Images for latents ``z``; under selection, row i's rejected candidates are replaced
        by ``retry(i, attempt)`` (a (1, latent_dim) latent) for attempt 1, 2, ... until one
        passes, or the least-bad of :data:`MAX_ATTEMPTS` is used."""
        labels = np.ascontiguousarray(labels, dtype=np.int64).reshape(-1)
        images = self.generate_from_latents(z, labels, batch_size=batch_size)
        if not (self.selecting if select is None else select and self.selecting):
            return images
        selector = self.selector
        assert selector is not None
        checks = selector.check(images, labels)
        ok, best, best_score = checks.accepted.copy(), images.copy(), checks.score.copy()
        self._count(labels, ok)
        for attempt in range(1, MAX_ATTEMPTS):
            rows = np.flatnonzero(~ok)
            if not rows.size:
                break
            zr = np.concatenate([retry(int(r), attempt) for r in rows])
            candidates = self.generate_from_latents(zr, labels[rows], batch_size=batch_size)
            checks = selector.check(candidates, labels[rows])
            passed = checks.accepted
            self._count(labels[rows], passed)
            images[rows[passed]] = candidates[passed]
            ok[rows[passed]] = True
            better = ~passed & (checks.score > best_score[rows])
            best[rows[better]], best_score[rows[better]] = candidates[better], checks.score[better]
        images[~ok] = best[~ok]
        self.stats.fallbacks += int((~ok).sum())
        return images

    def _count(self, labels: np.ndarray, passed: np.ndarray) -> None:
        self.stats.candidates += len(labels)
        self.stats.accepted += int(passed.sum())
        for c, p in zip(labels.tolist(), passed.tolist()):
            entry = self.stats.per_class.setdefault(c, [0, 0])
            entry[0] += 1
            entry[1] += int(p)

    def samples(
        self, class_index: int, seed: int, ordinals: Sequence[int], *, batch_size: int = 256, select: bool | None = None
    ) -> np.ndarray:
        """Samples ``ordinals`` of one class on the per-sample stream (what ``augment`` and the
        Datasets use): uint8 (len(ordinals), H, W, C), each a pure function of (seed, class, ordinal)."""
        ordinals = [int(j) for j in ordinals]
        z = sample_latents(seed, class_index, ordinals, self.latent_dim)
        retry = lambda row, attempt: retry_latent(seed, class_index, ordinals[row], attempt, self.latent_dim)  # noqa: E731
        return self.selected(z, np.full(len(ordinals), class_index), retry, batch_size=batch_size, select=select)

    def latents(self, n: int, seed: int | None = None) -> np.ndarray:
        """The (n, latent_dim) float32 noise that ``generate(..., n, seed=seed)`` uses."""
        return request_latents(n, seed, self.latent_dim)

    def generate(
        self, label: str | int, n: int, *, seed: int | None = None, batch_size: int = 256, select: bool | None = None
    ) -> np.ndarray:
        """``n`` images of one class as uint8 (n, H, W, C); the same seed gives the same images.

        Under per-sample selection (default when the model dir has a judge; ``select=False``
        or ``load(select=False)`` turns it off) each rejected image is replaced by its next
        candidate, so the result still has ``n`` images.

        Example::

            gen.generate("cat", 4, seed=1).shape   # (4, 32, 32, 3)
        """
        index = self.class_index(label)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"n must be a positive integer, got {n!r}.")
        if seed is None:
            seed = int(np.random.default_rng().integers(2**63))
        retry = lambda row, attempt: retry_latent(seed, index, row, attempt, self.latent_dim, stream=1)  # noqa: E731
        return self.selected(
            self.latents(int(n), seed), np.full(int(n), index), retry, batch_size=batch_size, select=select
        )

    def generate_pil(
        self, label: str | int, n: int, *, seed: int | None = None, batch_size: int = 256, select: bool | None = None
    ) -> list[Image.Image]:
        """Like :meth:`generate`, as PIL images (mode L for 1 channel, RGB for 3)."""
        return [to_pil(a) for a in self.generate(label, n, seed=seed, batch_size=batch_size, select=select)]

    def __repr__(self) -> str:
        return f"OnnxGenerator({str(self.model_dir)!r}, classes={self.classes}, resolution={self.resolution}, channels={self.channels})"
