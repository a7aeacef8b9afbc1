#!/usr/bin/env bash
# The GPU check, on a machine with an NVIDIA GPU, torch and python3 but no registry: the
# Jupyter stack travels as wheels in .whl/ (see README, "GPU check"). Writes into $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --find-links .whl papermill nbclient nbformat ipykernel \
    jupyter_client pydantic docker click rich tqdm pyyaml
site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
echo "$PWD" > "$site/autograde-src.pth"  # the runner's minimal environment finds the package
nvidia-smi -L
python3 -c 'import torch, sys; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name(0))'
PYTHONUNBUFFERED=1 python3 bench/gpu_check.py "${OUT:-gpu-check}"
