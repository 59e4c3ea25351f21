"""Image-folder data layer: scanning, decoding, caching, summarising and splitting."""

from augment_gan.data.cache import CACHE_DIR_ENV, default_cache_dir
from augment_gan.data.decode import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_RESOLUTIONS,
    Channels,
    DecodeOptions,
    ImageSkip,
    is_gray_mode,
    is_grayscale,
    open_image,
    resize_center_crop,
    to_channels,
)
from augment_gan.data.folder import (
    IMAGE_EXTENSIONS,
    FileEntry,
    FolderScan,
    scan_folder,
)
from augment_gan.data.images import MIN_IMAGES_PER_CLASS, ImageData, Skipped, load_image_folder
from augment_gan.data.split import holdout_count, holdout_split
from augment_gan.data.summary import format_summary_table, summarize

__all__ = [
    "CACHE_DIR_ENV",
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_RESOLUTIONS",
    "Channels",
    "DecodeOptions",
    "IMAGE_EXTENSIONS",
    "MIN_IMAGES_PER_CLASS",
    "FileEntry",
    "FolderScan",
    "ImageData",
    "ImageSkip",
    "Skipped",
    "default_cache_dir",
    "format_summary_table",
    "holdout_count",
    "holdout_split",
    "is_gray_mode",
    "is_grayscale",
    "load_image_folder",
    "open_image",
    "resize_center_crop",
    "scan_folder",
    "summarize",
    "to_channels",
]
