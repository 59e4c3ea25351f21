"""The Bento's entry point: the service itself lives in the installed package.

``bentoml build -f service/bentofile.yaml .`` names ``service.service:AugmentGanService``;
the code is :mod:`augment_gan.service.app` (so ``pip install augment-gan`` can serve too).
"""

from augment_gan.service.app import AugmentGanService

__all__ = ["AugmentGanService"]
