"""torch -> ONNX: export a generator checkpoint, with a pixel-parity check.

The only consumer-facing code that needs torch. What reads the exported model lives in
:mod:`augment_gan.runtime` (no torch).
"""

from augment_gan.export.onnx_export import ExportError, check_parity, export_checkpoint, export_generator_onnx

__all__ = ["ExportError", "check_parity", "export_checkpoint", "export_generator_onnx"]
