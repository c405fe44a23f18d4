#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# It installs attn-grade from the wheel inside this bundle (its dependencies come
# from PyPI) and locks the reference solutions and the lab specs away from the
# unprivileged user that runs student code.
set -euo pipefail
cd "$(dirname "$0")"

if ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-pip
fi

pip_install() {
    # Ubuntu 23.04+ marks the system Python as externally managed (PEP 668)
    python3 -m pip install --no-cache-dir "$@" \
        || python3 -m pip install --no-cache-dir --break-system-packages "$@"
}
pip_install -r requirements.txt
pip_install --no-deps dist/*.whl

python3 -m attn_grade.gradescope lock-down --source "$(pwd)"
