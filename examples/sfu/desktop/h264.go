//go:build h264

package main

// Decoding a robot's H.264 (-camera pi or cmd:): libavcodec, GPL-2.0+ as Debian builds it
// (see package codec/h264). Only in builds with -tags h264.
import _ "github.com/rtcbot-go/rtcbot/codec/h264"
