#!/usr/bin/env bash
# Builds .venv from requirements.lock with Python 3.10 (TFX 1.16 needs < 3.11). Idempotent: a venv whose stamp
# matches the lock's hash is reused, so `make test` twice installs once.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

find_python310() {
  local candidates=("${PYTHON:-}" python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.10*/bin/python3)
  fi
  candidates+=("$HOME"/.pyenv/versions/3.10*/bin/python3 /usr/bin/python3.10 /usr/local/bin/python3.10)
  for py in "${candidates[@]}"; do
    [ -n "$py" ] || continue
    if "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
      command -v "$py" 2>/dev/null || echo "$py"
      return 0
    fi
  done
  return 1
}

want="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.lock-hash" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

if ! PY="$(find_python310)"; then
  echo "error: Python 3.10 was not found (TFX 1.16 supports Python 3.9-3.10 only)." >&2
  echo "  hint: install it (e.g. 'pyenv install 3.10.13') or point PYTHON=/path/to/python3.10 at one." >&2
  exit 1
fi
echo "setup: building $VENV with $PY from requirements.lock (first time: about 5 minutes)"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip setuptools wheel
"$VENV/bin/python" -m pip install --quiet --progress-bar off -r requirements.lock
"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
echo "$want" > "$VENV/.lock-hash"
echo "setup: done"
