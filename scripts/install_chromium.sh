#!/usr/bin/env bash
# The browser the run-report test loads the HTML report in (tests/browser.py). Quick once it is there; installs
# Debian's chromium only as root with apt-get; anywhere else it says so, and that test skips with the reason.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test setup: installing Debian's chromium for the report test (apt-get install -y chromium; minutes, once)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q chromium >/dev/null; then  # stale package lists: refresh them once
    apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null || true
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    echo "error: apt-get could not install chromium; the report's browser test needs it on this machine" >&2
    exit 1
  fi
  echo "test setup: $(chromium --version)"
else
  echo "test setup: no chromium, and not root with apt-get to install it: the report's browser test will skip"
fi
