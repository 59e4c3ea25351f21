"""``python -m augment_gan.cli``: the same app (torchrun starts the workers of ``train --nproc-per-node`` so)."""

from augment_gan.cli import app
from augment_gan.training.distributed import exit_worker, launched_by_torchrun

if __name__ == "__main__":
    if launched_by_torchrun():  # a worker: leave without the interpreter's teardown
        exit_worker(app)
    else:
        app()
