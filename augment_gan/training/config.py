"""``TrainConfig`` lives with the run's spec (:mod:`augment_gan.run.train_config`); this name stays for scripts."""

from augment_gan.run.train_config import DIFFAUGMENT_OPS, FULL_POLICY, LIVE_LOGS, LOSSES, TrainConfig, parse_policy

__all__ = ["DIFFAUGMENT_OPS", "FULL_POLICY", "LIVE_LOGS", "LOSSES", "TrainConfig", "parse_policy"]
