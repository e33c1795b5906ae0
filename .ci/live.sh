#!/usr/bin/env bash
# Prepares the live-capture tests (tests/live.rs: network namespaces joined by veth pairs,
# packets sent with `cleanpath replay`), which the README's `cargo test` then runs as root.
# Needs root and iproute2; installs iproute2 if missing. Idempotent; for a fresh Debian 12
# machine. Called from .ci/run as: bash .ci/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "live.sh: must run as root (namespaces, packet sockets)" >&2
  exit 1
fi
if ! command -v ip >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi
# The privilege-drop tests switch to `nobody`.
id nobody >/dev/null
# Leftover namespaces of an interrupted earlier run.
for ns in $(ip netns list 2>/dev/null | awk '/^cp(cap|snd)[0-9]+x[0-9]+/ {print $1}'); do
  ip netns del "$ns" || true
done
echo "live capture: $(ip -V)"
