package timecode

import (
	"bytes"
	_ "embed"
)

//go:embed timecode.js
var javaScript []byte

// JavaScript returns timecode.js, a reader of the stamp for browser pages:
// it defines the global timecode, whose Reader reads the stamp of the frame
// a <video> shows, the way Read does, and whose latency turns a stamp and
// a time into milliseconds. rtcbot's statistics page serves it; a page of
// your own can too.
func JavaScript() []byte { return bytes.Clone(javaScript) }
