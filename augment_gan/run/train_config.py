"""Training hyper-parameters (everything but the architecture, which is NetConfig).

No torch here: the CLI takes its defaults from this module, and ``--help`` should not pay
for importing torch. So the names the config validates live here, and ``losses`` and
``diffaugment`` (which implement them) import them from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from augment_gan.errors import ConfigError
from augment_gan.fields import option

LOSSES = ("hinge", "ns", "wgan-gp", "lsgan")  # by CLI name; training/losses.py's get_loss builds each
DIFFAUGMENT_OPS = (
    "color",
    "translation",
    "cutout",
    "affine",
    "elastic",
)  # training/diffaugment.py's AUGMENTS implements each
FULL_POLICY = "color,translation,cutout"  # DiffAugment's published policy (Zhao et al. 2020)
FAKE_LABELS = ("as-real", "uniform")  # --fake-labels
LIVE_LOGS = ("none", "tensorboard")  # --log; training/live_log.py writes each


def parse_policy(policy: str) -> tuple[str, ...]:
    """'color,translation' -> ('color', 'translation'); '' or 'none' -> ()."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip() and p.strip() != "none")
    unknown = [p for p in names if p not in DIFFAUGMENT_OPS]
    if unknown:
        raise ValueError(f"unknown DiffAugment op(s) {unknown}; choose from {sorted(DIFFAUGMENT_OPS)}")
    return names


# Fields added with a default that differs from how runs saved before them trained: a saved
# config without the key means this value (a run's spec must reproduce it on resume).
LEGACY = {"diffaugment_below": 0}  # before it, a DiffAugment policy applied to every class


@dataclass(frozen=True)
class TrainConfig:
    steps: int = option(2000, "Total generator steps.")
    batch_size: int = option(64, "Images per D and G step.")
    loss: str = option("hinge", "hinge, ns, wgan-gp or lsgan.")
    lr_g: float = option(2e-4, "Generator learning rate.")
    lr_d: float = option(2e-4, "Discriminator learning rate.")
    beta1: float = option(0.0, "Adam beta1 of both nets.")
    beta2: float = option(0.9, "Adam beta2 of both nets.")
    # One D step per G step: at a CPU budget the second D step costs half again as much time
    # as it buys (benchmarks/time_to_quality.py: majority FID 5.4 at 3.1 CPU-minutes with 1,
    # 7.3 at 3.3 with 2).
    n_critic: int = option(1, "D steps per G step (5 is usual for wgan-gp).")
    gp_weight: float = option(10.0, "Gradient-penalty weight (wgan-gp only).")
    label_smoothing: float = option(0.0, "One-sided label smoothing (ns loss only).")
    ema_decay: float = option(0.999, "Decay of the generator's EMA copy.")
    # DiffAugment (translation, cutout) on D's real and fake inputs, at the small classes only
    # (diffaugment_below). At 5 training images a class's samples then reach real images
    # that unlimited classic augmentation does not: complementarity Δcov +0.043
    # [+0.017, +0.069] over 6 replicates, against +0.000 without DiffAugment, and copies of
    # the training images 0.19 of samples instead of 0.83 (benchmarks/complementarity.py).
    # The big classes train plain: on them, at the budgets a CPU affords, it costs quality
    # (MNIST, 3 CPU-minutes: majority FID 16.6 with the full policy on every class, 7.3
    # without; benchmarks/time_to_quality.py). 'none' switches it off.
    diffaugment: str = option("translation,cutout", "DiffAugment policy (e.g. color,translation,cutout), or 'none'.")
    # Per-class adaptive DiffAugment (training/ada.py): > 0 applies the policy to a class's
    # images with a probability that starts at 0 and rises while D scores more than this
    # share of the class's reals as real (ADA's r_t target, Karras et al. 2020: 0.6). It
    # decides per class itself, so diffaugment_below is then not used. 0: no adaptation.
    ada_target: float = option(
        0.0,
        "Adapt the DiffAugment probability per class, raising it while D scores more than this share of a class's reals as real (0: off; replaces --diffaugment-below).",
    )
    # DiffAugment at the small classes only: D over-fits a class with few images long before
    # the big ones, so only the reals and fakes of classes with fewer than this many training
    # images are augmented, always; the big classes train plain, at full speed. 0: the
    # policy applies to every class.
    diffaugment_below: int = option(
        50, "Apply the DiffAugment policy only to classes with fewer than N training images (0: every class)."
    )
    # Real images are drawn with weight n_class ** -class_balance: 0 samples images
    # uniformly (small classes rarely seen, and drawn as smudges), 1 samples classes
    # uniformly. 1 is what the small classes need: on MNIST with 25-image classes their
    # test FID went from 108 at 0.5 to 31 at 1, with no copies of their training images
    # (benchmarks/quality.py, variant "class-balance-0.5").
    class_balance: float = option(
        1.0, "Draw real images with weight n_class ** -B: 1 draws every class equally often, 0 every image."
    )
    # The long-tail GAN codebases (gSR, NoisyTwins) draw reals at their natural frequency and
    # only the fake labels uniformly, so G learns every class equally while D sees each
    # real image about equally often. "as-real": fake labels follow class_balance too.
    fake_labels: str = option("as-real", "Labels of G's fakes: as-real (drawn like the reals) or uniform.")
    # Mode-seeking regulariser (Mao et al. 2019, MSGAN): G is penalised by
    # 1 / (|G(z1, y) - G(z2, y)| / |z1 - z2|), which counters the collapse of a class to
    # one image that conditional GANs show on small data. 0 switches it off.
    mode_seeking: float = option(
        0.0, "Weight of the mode-seeking term against a class collapsing to one image (0: off)."
    )
    # LeCam regulariser (Tseng et al. 2021): D's outputs on real images are pulled towards
    # the running mean of its outputs on fakes and vice versa, which keeps D from
    # over-fitting a small dataset. 0 switches it off; the paper uses 0.1-0.3.
    lecam: float = option(0.0, "Weight of the LeCam regulariser against D over-fitting a small dataset (0: off).")
    # Top-k generator updates (Sinha et al. 2020): G learns only from the fraction of its
    # batch D rates most real, annealed linearly from the whole batch at step 0 to this
    # fraction at the last step. 1 switches it off; the paper keeps at least 0.5.
    topk: float = option(
        1.0, "Top-k G updates: the share of fakes G learns from at the last step, annealed from 1 (1: off)."
    )
    # The long-tail regularisers (training/long_tail.py), candidates of issue 25 for letting
    # a class of a few images learn from the big ones; all off by default until one is
    # measured to help (benchmarks/complementarity.py).
    gsr: float = option(
        0.0,
        "Weight of gSR, the group spectral penalty on each class's conditional-BN gains, by effective count (0: off).",
    )
    class_noise: float = option(
        0.0,
        "Std of the noise added to G's class embeddings in training, times the class's effective-count weight (0: off).",
    )
    transition: float = option(
        0.0,
        "Transitional conditioning: D's conditional loss fades in from half to all of this share of the steps, its class-free loss always on (0: off).",
    )
    # A time budget as well as a step count: on a small folder 2,000 steps can be hundreds of
    # epochs, and a CPU's speed is not known in advance. The run ends at the step reached
    # when the time is up (checkpointed and evaluated as its last step); resume continues
    # towards ``steps``. Evaluation during training counts against it.
    minutes: float = option(
        0.0,
        "Stop training after this many minutes (evaluation during training included), at the step reached (0: no limit).",
    )
    holdout_fraction: float = option(0.1, "Share of each class held out of training for evaluation.", name="holdout")
    seed: int = option(0, "Seed for weights, batches and noise.")
    checkpoint_every: int = option(500, "Checkpoint and sample grid every N steps.")
    log_every: int = option(10, "Log losses to metrics.jsonl every N steps.")
    sample_columns: int = option(10, "Samples per class in each sample grid.")

    def __post_init__(self) -> None:
        checks = [
            (self.steps >= 0, f"steps must be >= 0, got {self.steps}"),
            (self.batch_size >= 2, f"batch size must be >= 2, got {self.batch_size}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}"),
            (self.lr_g > 0 and self.lr_d > 0, "learning rates must be positive"),
            (self.n_critic >= 1, f"n_critic must be >= 1, got {self.n_critic}"),
            (0.0 <= self.ema_decay < 1.0, f"EMA decay must be in [0, 1), got {self.ema_decay}"),
            (0.0 <= self.label_smoothing < 0.5, "label smoothing must be in [0, 0.5)"),
            (0.0 <= self.class_balance <= 1.0, "class balance must be in [0, 1]"),
            (self.mode_seeking >= 0.0, "mode-seeking weight must be >= 0"),
            (self.lecam >= 0.0, "LeCam weight must be >= 0"),
            (0.0 < self.topk <= 1.0, "top-k fraction must be in (0, 1]"),
            (self.gsr >= 0.0, "gSR weight must be >= 0"),
            (self.class_noise >= 0.0, "class-noise std must be >= 0"),
            (0.0 <= self.transition <= 1.0, "transition must be in [0, 1]"),
            (0.0 <= self.ada_target < 1.0, "ADA target must be in [0, 1)"),
            (self.diffaugment_below >= 0, "diffaugment-below must be >= 0"),
            (self.fake_labels in FAKE_LABELS, f"fake labels must be one of {', '.join(FAKE_LABELS)}"),
            (
                self.fake_labels == "as-real" or self.loss != "wgan-gp",
                "wgan-gp's penalty interpolates a real and a fake of one class: it needs --fake-labels as-real",
            ),
            (0.0 <= self.holdout_fraction < 0.5, "holdout fraction must be in [0, 0.5)"),
            (self.checkpoint_every >= 1, "checkpoint-every must be >= 1"),
            (self.minutes >= 0, "minutes must be >= 0"),
            (self.log_every >= 1, "log-every must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message + ".")
        try:
            policy = parse_policy(self.diffaugment)
        except ValueError as e:
            raise ConfigError(f"{e}.") from None
        if self.ada_target and not policy:
            raise ConfigError("an ADA target needs a DiffAugment policy to adapt (--diffaugment).")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """A saved config; a key it lacks takes the value that reproduces the run it came
        from (``LEGACY``: a default that changed), else today's default."""
        return cls(**{**LEGACY, **{k: d[k] for k in cls.__dataclass_fields__ if k in d}})
