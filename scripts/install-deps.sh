#!/usr/bin/env bash
# Installs the Debian packages streamstack's build and tests need, only when
# missing. Used by the Taskfile and .ci/run so both stay in step.
set -euo pipefail
packages=(pkg-config gcc libvpx-dev libopus-dev)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
