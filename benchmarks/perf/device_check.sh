#!/usr/bin/env bash
# The GPU check issue 17 owes: run it, once, in a session that is lent a device.
#
# What it measures: MoECBOWClassifier on CUDA (HistGB on the device machine's
# CPUs beside it) on the simulation headline (N=2,000, D=5), the predict section
# and the 1M x 20 fit, end to end: fit time, OOD accuracy, peak RSS.
#
# The device image has torch, scikit-learn, pandas and numpy but not skorch;
# carry its wheel. Once, on the session machine, from the repository root:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp -d .whl skorch==1.4.0
# then call the device tool's run with
#   command="bash benchmarks/perf/device_check.sh", carry=[".whl"], timeout_s=540
# and commit what comes back (perf.md, perf.json) under benchmarks/results/.
set -euo pipefail
out=${OUT:-/tmp/device-check}
mkdir -p "$out"
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; \
print(torch.__version__, torch.cuda.get_device_name())"
python3 -m benchmarks perf --device cuda --models ours,histgb --sizes 1e6 \
    --features 20 --curve-n 10000 --repeats 1 --curve-repeats 1 \
    --headline-paper-epochs 5 --real-sizes none --out "$out" 2>&1 | tee "$out/run.log"
