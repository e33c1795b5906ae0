#!/usr/bin/env bash
# Installs what the `cleanpath report` tests need on a fresh Debian 12 machine, as root:
# headless Chromium, which tests/report_html.rs uses to render the HTML report to a PNG.
# Idempotent: does nothing when chromium is already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  chromium --version
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  chromium fonts-dejavu-core >/dev/null
chromium --version
