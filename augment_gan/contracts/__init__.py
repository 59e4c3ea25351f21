"""The on-disk contracts between stages, each with one owner module (no torch, no stage imports).

- :mod:`~augment_gan.contracts.run_dir`: :class:`RunDir`, what training writes and evaluation reads;
- :mod:`~augment_gan.contracts.model_dir`: the model dir and ``PROMOTED``, what every consumer reads;
- :mod:`~augment_gan.contracts.manifest`: the augment manifest in a data folder.
"""
