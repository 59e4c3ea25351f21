"""``python -m augment_gan.cli``: the same app (torchrun starts the workers of ``train --nproc-per-node`` so)."""

from augment_gan.cli import app

if __name__ == "__main__":
    app()
