#!/usr/bin/env bash
# Run HERE (where pip reaches the registry), before a GPU check on the lent device machine:
# fills .device/ (git-ignored) with what the check needs there and cannot fetch itself.
#   .device/wheels/       BentoML and the packages the device's image lacks (cp312 wheels)
#   .device/mnist-t10k/   the MNIST test set, for the time_to_quality part
# DEVICE_PYTHON=3.11 fetches cp311 wheels instead, to rehearse the device call on this machine.
# Then one device call runs the check (benchmarks/device_gpu_check.sh says how).
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST="${1:-../shared/datasets/mnist-t10k}"
rm -rf .device && mkdir -p .device/wheels
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "${DEVICE_PYTHON:-3.12}" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  -d .device/wheels -r benchmarks/device-requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
want=$(grep -cv '^#' benchmarks/device-requirements.txt)
got=$(ls .device/wheels/*.whl | wc -l)
[ "$got" -eq "$want" ] || { echo "device_prepare: $got of $want wheels downloaded" >&2; exit 1; }
if [ -d "$MNIST" ]; then cp -r "$MNIST" .device/mnist-t10k; else echo "device_prepare: no MNIST at $MNIST (time_to_quality will skip)" >&2; fi
echo "device_prepare: $(du -sh .device | cut -f1) in .device/ ($got wheels); carry it: run(command=\"bash benchmarks/device_gpu_check.sh\", carry=[\".device\"], timeout_s=560)"
