"""Image-folder data layer: scanning, decoding, caching, summarising and splitting.

Names resolve lazily: ``augment_gan.data.folder`` and ``augment_gan.data.decode`` need no
torch (the augment stage uses them), while loading a folder into tensors
(:func:`load_image_folder`, the cache, splits) imports torch when first used.
"""

from augment_gan.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "cache": ("CACHE_DIR_ENV", "default_cache_dir"),
        "decode": (
            "Channels",
            "DEFAULT_MAX_PIXELS",
            "DecodeOptions",
            "ImageSkip",
            "SUPPORTED_RESOLUTIONS",
            "SkipKind",
            "is_gray_mode",
            "is_grayscale",
            "open_image",
            "resize_center_crop",
            "to_channels",
        ),
        "folder": ("FileEntry", "FolderScan", "IMAGE_EXTENSIONS", "scan_folder"),
        "images": ("ImageData", "MIN_IMAGES_PER_CLASS", "Skipped", "load_image_folder"),
        "summary": ("format_summary_table", "summarize"),
        "split": ("holdout_count", "holdout_split"),
    },
)
