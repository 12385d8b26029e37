//go:build h264

package main

// H.264 both ways: x264 and libavcodec, GPL-2.0+ (see package codec/h264).
// Only in builds with -tags h264.
import _ "github.com/rtcbot-go/rtcbot/codec/h264"

func init() { h264Built = true }
