"""The runtime tests use the export tests' tiny exported generators and model dirs."""

from tests.export.conftest import exported_gray, exported_rgb, model_dir, rgb_model_dir  # noqa: F401
