"""Per-sample selection in every consumer, without torch: generate more, keep the good ones.

:class:`SampleSelector` runs the model dir's judge (``judge.onnx``, onnxruntime) and
decides with :func:`augment_gan.contracts.selection.verdicts` (the three tests and their
calibration are described there). :class:`~augment_gan.runtime.generator.OnnxGenerator`
uses it by default: the candidates of sample j are tried in a fixed order (attempt 0 is
the unselected sample, see :func:`~augment_gan.runtime.latents.retry_latent`) and the first
that passes is kept -- the first, not the most confident, so the generator's diversity is
left alone -- and the same seed keeps the same samples. After ``MAX_ATTEMPTS`` rejections
the least-bad candidate is used and counted in :attr:`SelectionStats.fallbacks`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augment_gan.contracts.model_dir import JUDGE_NAME, SELECTION_NAME, ModelError, verify_file
from augment_gan.contracts.selection import Checks, pixel_vectors, read_reference, verdicts
from augment_gan.runtime.providers import ProviderSpec, open_session


@dataclass
class SelectionStats:
    """Counts since the generator was loaded (per process)."""

    candidates: int = 0
    accepted: int = 0
    fallbacks: int = 0  # samples that used the least-bad candidate after MAX_ATTEMPTS
    per_class: dict[int, list[int]] = field(default_factory=dict)  # class -> [candidates, accepted]


class SampleSelector:
    """The judge (onnxruntime) and the reference arrays of one model dir."""

    def __init__(
        self,
        judge_onnx: bytes | Path,
        reference: dict[str, np.ndarray],
        *,
        sha256: str | None = None,
        providers: str | Sequence[ProviderSpec] = "auto",
        intra_op_threads: int | None = None,
    ) -> None:
        self._judge, self._sha256 = judge_onnx, sha256
        self.reference = reference
        self.providers, self.intra_op_threads = providers, intra_op_threads
        self._session: Any = None
        self._pid: int | None = None

    @classmethod
    def load(cls, model_dir: Path, card: dict[str, Any], **options: Any) -> SampleSelector | None:
        """The model dir's selector, sha256-checked; None for a model dir without one."""
        files = card.get("files", {})
        if JUDGE_NAME not in files or SELECTION_NAME not in files:
            return None
        verify_file(model_dir, card, JUDGE_NAME)
        reference = read_reference(model_dir, card)
        return cls(Path(model_dir) / JUDGE_NAME, reference, sha256=files[JUDGE_NAME]["sha256"], **options)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_session": None, "_pid": None}

    @property
    def session_open(self) -> bool:
        return self._session is not None and self._pid == os.getpid()

    @property
    def session(self) -> Any:
        if self._session is None or self._pid != os.getpid():
            data = self._judge if isinstance(self._judge, bytes) else Path(self._judge).read_bytes()
            if self._sha256 is not None and hashlib.sha256(data).hexdigest() != self._sha256:
                raise ModelError(f"{self._judge} does not match the sha256 in card.json.")
            self._session = open_session(data, providers=self.providers, intra_op_threads=self.intra_op_threads)
            self._pid = os.getpid()
        return self._session

    def judge(self, images_nhwc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits, features) of uint8 (N, H, W, C) images."""
        x = np.ascontiguousarray(np.asarray(images_nhwc, np.uint8).transpose(0, 3, 1, 2))
        logits, features = self.session.run(["logits", "features"], {"images": x})
        return logits, features

    def check(self, images_nhwc: np.ndarray, labels: np.ndarray | Sequence[int]) -> Checks:
        """The three tests for each image; ``labels`` are the classes they were generated for."""
        labels = np.asarray(labels, np.int64).reshape(-1)
        if not len(labels):
            return verdicts(np.zeros((0, 1)), np.zeros((0, 1)), np.zeros((0, 1)), labels, self.reference)
        logits, features = self.judge(images_nhwc)
        return verdicts(logits, features, pixel_vectors(images_nhwc), labels, self.reference)
