"""open_session: explicit providers, one-line errors, and sessions that survive a fork."""

from __future__ import annotations

import gc
import os
import time

import numpy as np
import pytest
from onnx import TensorProto, helper

from augment_gan.errors import ConfigError
from augment_gan.runtime.providers import CPU, open_session

SIDE = 384  # a MatMul big enough that a multi-thread session really starts its pool's threads


@pytest.fixture(scope="module")
def matmul() -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [SIDE, SIDE])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [SIDE, SIDE])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "x"], ["y"])], "matmul", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9).SerializeToString()


def test_explicit_cpu_session_runs(matmul: bytes) -> None:
    session = open_session(matmul, providers=[CPU], intra_op_threads=1)
    x = np.eye(SIDE, dtype=np.float32) * 2
    assert session.get_providers() == [CPU]
    assert np.array_equal(session.run(None, {"x": x})[0], x @ x)


def test_bad_providers_are_one_line_errors(matmul: bytes) -> None:
    with pytest.raises(ConfigError, match="'auto' or a list"):
        open_session(matmul, providers="cpu")
    with pytest.raises(ConfigError, match="no provider.*NoSuchExecutionProvider"):
        open_session(matmul, providers=["NoSuchExecutionProvider"])


@pytest.mark.timeout(60)
def test_a_forked_child_never_destroys_the_parents_sessions(matmul: bytes) -> None:
    # A DataLoader worker is a fork. If the parent held a multi-thread session in garbage
    # not yet collected, the child's collector used to destroy the copy, joining threads
    # that exist only in the parent: SIGSEGV, or a hang (it hung CI once).
    class Owner:
        pass

    gc.disable()
    try:
        owner = Owner()
        owner.cycle = owner
        owner.session = open_session(matmul, providers=[CPU], intra_op_threads=4)
        owner.session.run(None, {"x": np.ones((SIDE, SIDE), np.float32)})  # starts the pool's threads
        del owner  # garbage, not yet collected
        pid = os.fork()
        if pid == 0:  # the child: collect the garbage, and open and use a session of its own
            code = 1
            try:
                gc.collect()
                mine = open_session(matmul, providers=[CPU], intra_op_threads=2)
                mine.run(None, {"x": np.ones((SIDE, SIDE), np.float32)})
                code = 0
            finally:
                os._exit(code)
        deadline = time.monotonic() + 30
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if done[0] == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        assert os.waitstatus_to_exitcode(done[1]) == 0  # -11 would be the SIGSEGV
    finally:
        gc.enable()
        gc.collect()
