"""Image-folder data layer: scanning, decoding, caching, summarising and splitting.

Names resolve lazily: ``augment_gan.data.folder`` and ``augment_gan.data.decode`` need no
torch (the augment stage uses them), while loading a folder into tensors
(:func:`load_image_folder`, the cache, splits) imports torch when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CACHE_DIR_ENV": "augment_gan.data.cache",
    "Channels": "augment_gan.data.decode",
    "DEFAULT_MAX_PIXELS": "augment_gan.data.decode",
    "DecodeOptions": "augment_gan.data.decode",
    "FileEntry": "augment_gan.data.folder",
    "FolderScan": "augment_gan.data.folder",
    "IMAGE_EXTENSIONS": "augment_gan.data.folder",
    "ImageData": "augment_gan.data.images",
    "ImageSkip": "augment_gan.data.decode",
    "MIN_IMAGES_PER_CLASS": "augment_gan.data.images",
    "SUPPORTED_RESOLUTIONS": "augment_gan.data.decode",
    "SkipKind": "augment_gan.data.decode",
    "Skipped": "augment_gan.data.images",
    "default_cache_dir": "augment_gan.data.cache",
    "format_summary_table": "augment_gan.data.summary",
    "holdout_count": "augment_gan.data.split",
    "holdout_split": "augment_gan.data.split",
    "is_gray_mode": "augment_gan.data.decode",
    "is_grayscale": "augment_gan.data.decode",
    "load_image_folder": "augment_gan.data.images",
    "open_image": "augment_gan.data.decode",
    "resize_center_crop": "augment_gan.data.decode",
    "scan_folder": "augment_gan.data.folder",
    "summarize": "augment_gan.data.summary",
    "to_channels": "augment_gan.data.decode",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
