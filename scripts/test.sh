#!/usr/bin/env bash
# Sets up a Debian 12 machine (see setup.sh) and runs every check CI runs:
# gofmt, go vet, staticcheck, the race-enabled tests, and a build without cgo
# proving that data-channel users need neither C libraries nor OpenCV, and
# that package rtcbot does not depend on the GPL codecs or LiveKit's SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...
go vet -tags opencv ./examples/... # the examples' OpenCV camera and window
go vet -tags h264 ./examples/... ./cmd/... # H.264 in the tutorial's robot and desktop, and rtcbench
go vet -tags sfu ./cmd/... # rtcbench's SFU measurement, with LiveKit's SDK

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags sfu ./cmd/...

echo "== build without cgo"
CGO_ENABLED=0 go build . ./timecode/... ./v4l2/...
if go list -deps . | grep -q '^gocv.io/'; then
	echo "the rtcbot package must not depend on gocv" >&2
	exit 1
fi
if go list -deps . | grep -q '^github.com/livekit/'; then
	echo "the rtcbot package must not depend on LiveKit's SDK: package rtcbot/livekit holds what needs it" >&2
	exit 1
fi
if go list -deps . | grep -Eq '/codec/(x264|avcodec|h264)$'; then
	echo "the rtcbot package must not depend on the GPL codecs (x264, avcodec): codec/h264 turns them on" >&2
	exit 1
fi

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

# A short fuzz run of each target beyond its committed seeds (testdata/fuzz,
# which the test step above already ran). One target per invocation, as go
# test requires. The budget is a count of executions, not a duration: with
# a duration, Go 1.26's fuzz coordinator can report a bare "context deadline
# exceeded" failure at the deadline on a busy machine (go.dev/issue/75804,
# fixed in Go 1.27). 20000 runs take 4-8 s a target here. Go minimizes
# every newly interesting input, by default for up to a minute: 2 s is
# enough. A crash fails the step (set -e) and leaves the input in
# testdata/fuzz/<target>/ to commit as a regression seed; go keeps its
# generated corpus in GOCACHE, outside the repository.
echo "== fuzz (short)"
for target in FuzzVP8Assembler FuzzH264AppendPayload FuzzInputEventFromMessage FuzzBrowserInputEvent FuzzDecodeText FuzzDecodeRecord FuzzHandler FuzzH264Splitter FuzzRecordFormat FuzzRecordFraming FuzzParseNMEA; do
	go test -run '^$' -fuzz "^${target}\$" -fuzztime 20000x -fuzzminimizetime 2s .
done
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 20000x -fuzzminimizetime 2s ./codec/avcodec/
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 20000x -fuzzminimizetime 2s ./codec/mjpeg/
