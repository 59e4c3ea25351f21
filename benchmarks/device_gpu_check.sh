#!/usr/bin/env bash
# Run THERE, on the lent GPU machine, as one call after benchmarks/device_prepare.sh ran here:
#   run(command="bash benchmarks/device_gpu_check.sh", carry=[".device"], timeout_s=560)
# It installs the carried wheels beside the image's own packages (its python3 has torch), then
# runs the GPU check from the source tree; the JSON comes back under $OUT/gpu/ (copy it into
# benchmarks/results/gpu/ here and commit it). The image's onnxruntime is the CPU build, so
# the two onnxruntime-CUDA parts report themselves skipped, saying why. Arguments pass through
# to benchmarks.gpu_check: rerun a failed part alone with `--parts NAME` (a full run does not fit twice
# in 15 device minutes). Rehearsed on CPU: DEVICE_PYTHON=3.11 device_prepare.sh, then this
# script with --quick and python3 a venv like the device's (torch 2.11, onnxruntime 1.30's CPU
# build, no BentoML, no augment_gan): all five parts ok.
set -uo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .device/wheels/*.whl || exit 3
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1 BENTOML_DO_NOT_TRACK=True
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c "import torch, onnxruntime; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), '| onnxruntime', onnxruntime.__version__, onnxruntime.get_available_providers())"
out="${OUT:-benchmarks/results}/gpu"
mnist=()
[ -d .device/mnist-t10k ] && mnist=(--mnist .device/mnist-t10k)
timeout 540 python3 -m benchmarks.gpu_check --out "$out" "${mnist[@]}" "$@"
status=$?
ls -la "$out" || true
exit $status
