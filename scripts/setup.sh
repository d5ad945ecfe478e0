#!/usr/bin/env bash
# Set up this checkout on a Debian machine: system packages, then a virtualenv
# in .venv with the pinned Python packages. Safe to run again: each step checks
# first and only does what is missing. Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(mosquitto mosquitto-clients influxdb influxdb-client python3 python3-venv python3-dev gcc chromium docker-compose prometheus)
UV_VERSION=0.13.8

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps Debian from starting the packaged services: the project
  # starts its own mosquitto and influxd on loopback with project-local state.
  apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "system packages present: ${APT_PACKAGES[*]}"
fi

# The web pages' browser libraries come from the npm registry, pinned by
# iotorino/web/package-lock.json; Debian's npm only where no npm exists yet.
if ! command -v npm >/dev/null; then
  say "installing nodejs and npm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  say "creating virtualenv .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if [[ "$(.venv/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION"* ]]; then
  say "installing uv $UV_VERSION into .venv"
  .venv/bin/python -m pip install -q "uv==$UV_VERSION"
fi
stamp=.venv/.iotorino-installed
wanted="$(sha256sum constraints.txt pyproject.toml | sha256sum | cut -c1-16)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
  say "installing pinned Python packages from constraints.txt (uv)"
  .venv/bin/uv pip install -q -p .venv/bin/python -c constraints.txt -e '.[all,production,test]'
  echo "$wanted" >"$stamp"
else
  say "Python packages up to date (constraints.txt unchanged)"
fi

# Browser libraries for the web pages: npm ci against the lock file (integrity
# checked), then the files the app serves are copied to iotorino/web/static/vendor.
lock=iotorino/web/package-lock.json
if [[ "$(cat iotorino/web/node_modules/.iotorino-lock 2>/dev/null)" != "$(sha256sum "$lock" | cut -c1-16)" ]]; then
  say "installing the web pages' browser libraries (npm ci)"
  (cd iotorino/web && npm ci --no-audit --no-fund --loglevel=error)
  sha256sum "$lock" | cut -c1-16 >iotorino/web/node_modules/.iotorino-lock
else
  say "browser libraries up to date (package-lock.json unchanged)"
fi
.venv/bin/python -c 'from iotorino.web import assets; assets.main()'
