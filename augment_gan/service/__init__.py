"""The HTTP service: the launcher (:func:`serve`, no bentoml import) and the BentoML app it starts.

- :mod:`.launch`: :func:`plan`, :func:`run`, :func:`serve` (``augment-gan serve``);
- :mod:`.app`: the ``@bentoml.service`` class (``bentoml serve augment_gan.service.app:AugmentGanService``),
  with :mod:`.settings`, :mod:`.schemas`, :mod:`.encoding`, :mod:`.middleware` and :mod:`.state`.

Importing this package imports neither bentoml nor torch.
"""

from augment_gan.service.launch import ServePlan, plan, run, serve

__all__ = ["ServePlan", "plan", "run", "serve"]
