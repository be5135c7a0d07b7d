#!/usr/bin/env bash
# Installs the Debian packages streamstack's build and tests need, only when
# missing. Used by the Taskfile and .ci/run so both stay in step.
set -euo pipefail
# natscli, from the Go module proxy: tests check the NATS service with it.
if ! command -v nats >/dev/null && [ ! -x "$(go env GOPATH)/bin/nats" ]; then
	echo "installing: natscli"
	GOFLAGS= go install github.com/nats-io/natscli/nats@v0.5.1
fi
# coturn, iproute2 and nftables are for the NAT traversal tests: a real
# coturn, and network namespaces behind a masquerading router.
# chromium runs the web client and SDK tests (integration/browser_test.go).
# xvfb, xterm and the libX11/libXext/libXtst/libXdamage headers are X11 apps'
# sessions: a private display, the built-in xterm app, MIT-SHM capture of
# what DAMAGE says changed and XTest input (internal/x11); libyuv converts the capture to I420;
# fonts-dejavu-core is xterm's font; x11-utils has the tools (xdpyinfo,
# xwininfo) to look into a session's display. libxfixes-dev watches the
# session's clipboard (internal/x11/clipboard.c), xclip copies and pastes in
# its tests. libxrandr-dev resizes the session's display through RandR
# (internal/x11/randr.c, stream::resize).
# runc is the OCI runtime every X11 app's container runs under
# (internal/container); passt's pasta is the user-mode network of an app
# whose catalogue entry asks for network "outbound" (filtered with nftables).
# pulseaudio is each X11 session's private sound server; libpulse-dev
# builds the capture of it (internal/pulse) and the test app's beep.
packages=(pkg-config gcc runc passt libvpx-dev libopus-dev libx264-dev libavcodec-dev coturn iproute2 nftables chromium xvfb xterm x11-utils libx11-dev libxext-dev libxtst-dev libxdamage-dev libyuv-dev libxfixes-dev libxrandr-dev xclip fonts-dejavu-core pulseaudio libpulse-dev)
# `install-deps.sh bench` adds ffmpeg, the raw encoders `streamstack bench
# --density` compares the streamer with; the build and tests never need it.
if [ "${1:-}" = bench ]; then
	packages+=(ffmpeg)
fi
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
# The tests start coturn themselves; Debian enables its service, which would
# hold port 3478, the embedded STUN/TURN server's default.
if [[ " ${missing[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null && systemctl is-enabled --quiet coturn 2>/dev/null; then
	$sudo systemctl disable --now coturn || true
fi
