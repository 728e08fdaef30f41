#!/usr/bin/env bash
# System packages the project needs beyond Python: headless Chromium, which the data dictionary
# test uses to render the static docs site. Debian/Ubuntu only; idempotent (does nothing when
# /usr/bin/chromium is already there). Needs root or sudo for apt-get.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: no apt-get here; install Chromium yourself" \
         "(the docs-site test is skipped outside CI without it)" >&2
    exit 0
fi
SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-system-deps: not root and no sudo; install the Debian package chromium" \
             "yourself (the docs-site test is skipped outside CI without it)" >&2
        exit 0
    fi
fi
echo "install-system-deps: installing chromium (headless browser for the docs-site test)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x /usr/bin/chromium
