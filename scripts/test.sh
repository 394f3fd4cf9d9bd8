#!/usr/bin/env bash
# Set up a fresh environment and run the whole test suite.
# Needs Python 3.11+ and the package registries; installs Debian's chromium for the browser
# tests and openjdk-17-jre-headless for the Spark parity test when they are missing (as root, or
# with sudo), and the package with its optional `spark` extra (pyspark).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT_UPDATED=""
apt_install() {  # apt_install PACKAGE WHY
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing $1 for $2"
    if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$1" >/dev/null
  else
    echo "$1 is missing and apt-get is not available: $2 will be skipped" >&2
  fi
}

command -v chromium >/dev/null 2>&1 || apt_install chromium "the browser tests"
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless "the Spark parity test"

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,spark]'
# the code keeps itself clean: lint, formatting and types fail the run before any test does
# (settings in pyproject.toml)
echo "ruff check, ruff format --check, mypy"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
