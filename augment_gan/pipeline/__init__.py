"""The pipeline: each stage as the CLI runs it (:mod:`.stages`), and the whole job in one call (:mod:`.job`).

=================  ==========================================================
``run``            folder -> train with evaluation -> best step -> gate -> promote (-> balance)
``train``          a new run (or, with ``resume=True``, the latest run of a name)
``resume``         a run dir, from its newest checkpoint
``evaluate``       checkpoints of a run, per class, gated
``promote``        an evaluated step -> the next model dir, if any class passes
``export``         a checkpoint -> a model dir, without the gate
=================  ==========================================================

Names resolve lazily, so the options (:mod:`.options`) import no torch.

Example::

    from augment_gan.pipeline import Balance, run
    result = run("data/train", "pets", balance=Balance(out="data/synthetic"))
"""

from augment_gan.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "options": ("MODELS_DIR", "Balance", "Events", "Placement", "TrainEval", "TrainStart"),
        "job": ("PipelineResult", "balance_folder", "run"),
        "fit": ("Relaunched", "Trained"),
        "stages": ("Evaluated", "Exported", "Promoted", "evaluate", "export", "promote", "resume", "train"),
    },
)
