import pytest
import torch

from augment_gan.errors import CheckpointError
from augment_gan.run.checkpoint import (
    checkpoint_path,
    list_checkpoints,
    load_checkpoint,
    load_latest_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
)


def test_save_and_load_round_trip(tmp_path) -> None:
    path = checkpoint_path(tmp_path, 12)
    save_checkpoint(path, {"step": 12, "w": torch.arange(3)})
    assert path.name == "step-0000012.pt"
    state = load_checkpoint(path)
    assert state["step"] == 12 and torch.equal(state["w"], torch.arange(3))
    assert [p.name for p in path.parent.iterdir()] == ["step-0000012.pt"]  # no temp left


def test_temp_files_are_not_checkpoints(tmp_path) -> None:
    save_checkpoint(checkpoint_path(tmp_path, 1), {"step": 1})
    (tmp_path / "checkpoints" / ".step-0000002.pt.abc.tmp").write_bytes(b"partial")
    assert [s for s, _ in list_checkpoints(tmp_path)] == [1]


def test_latest_skips_an_unreadable_checkpoint(tmp_path) -> None:
    save_checkpoint(checkpoint_path(tmp_path, 1), {"step": 1})
    save_checkpoint(checkpoint_path(tmp_path, 2), {"step": 2})
    data = checkpoint_path(tmp_path, 2).read_bytes()
    checkpoint_path(tmp_path, 2).write_bytes(data[: len(data) // 2])  # truncated
    with pytest.warns(UserWarning, match="unreadable"):
        step, state = load_latest_checkpoint(tmp_path)
    assert step == 1 and state["step"] == 1


def test_weights_only_refuses_arbitrary_objects(tmp_path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "obj": object()}, path)
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(path)


def test_resolve_checkpoint(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoints"):
        resolve_checkpoint(tmp_path)
    for s in (0, 5):
        save_checkpoint(checkpoint_path(tmp_path, s), {"step": s})
    assert resolve_checkpoint(tmp_path)[0] == 5
    assert resolve_checkpoint(tmp_path, "0")[0] == 0
    with pytest.raises(CheckpointError, match=r"no checkpoint at step 3 \(it has: 0, 5\)"):
        resolve_checkpoint(tmp_path, 3)
