#!/usr/bin/env bash
# Installs what rtcbot needs on Debian 12 when it is missing: the C codec
# libraries (libvpx, libopus, libx264, and FFmpeg's libavcodec for H.264
# decoding in codec/avcodec), libyuv for colour conversion and scaling (package
# yuv), libjpeg-turbo's TurboJPEG for Motion-JPEG cameras (codec/mjpeg, used by
# v4l2), OpenCV for the rtcbot/cv package, and
# the tools the tests use (Xvfb, Python's aiortc for interop, Chromium for the
# browser tests, ffmpeg for Motion-JPEG frames and as a stand-in hardware
# encoder, coturn's turnserver for TURN, livekit-server for the SFU tests).
# Idempotent and quiet when everything is there. Needs root (or sudo) only to
# install packages.
set -euo pipefail

# livekit-server, the SFU the WHIP and package livekit tests run against
# (internal/livekittest), built once from the Go module proxy into a cache of
# its own. v1.13.5: later releases need LiveKit's forks of pion, which are
# not served. About 3 minutes the first time, nothing after.
livekit_version=v1.13.5
livekit_dir="${XDG_CACHE_HOME:-$HOME/.cache}/rtcbot/livekit-server-$livekit_version"
if [ ! -x "$livekit_dir/server" ]; then
	echo "setup: building livekit-server $livekit_version into $livekit_dir (about 3 minutes, once)" >&2
	(cd / && GOBIN="$livekit_dir" GOFLAGS= go install "github.com/livekit/livekit-server/cmd/server@$livekit_version")
fi

packages=(pkg-config gcc g++ libvpx-dev libopus-dev libx264-dev libavcodec-dev libavutil-dev libyuv-dev libturbojpeg0-dev libopencv-dev xvfb x11-apps imagemagick python3-aiortc chromium ffmpeg coturn)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
