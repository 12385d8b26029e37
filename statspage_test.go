package rtcbot

import (
	"encoding/json"
	"testing"
	"time"
)

// LinkStats's JSON has stable lower camel case names and RTT in
// milliseconds, and decodes back.
func TestStatsLinkStatsJSON(t *testing.T) {
	s := LinkStats{RTT: 12345678 * time.Nanosecond, TargetBitrate: 1_000_000, SentBitrate: 900_000, ResentBitrate: 20_000,
		VideoBytesSent: 5, VideoBytesResent: 1, PeerLoss: 0.25, NACKsReceived: 3, KeyframeRequestsReceived: 2, ResendsDropped: 1,
		KeyframesSent: 4, VideoPacketsReceived: 100, NACKsSent: 6, KeyframeRequestsSent: 7, PacketsRepaired: 8, PacketsGivenUp: 9,
		FramesDecoded: 10, FramesIncomplete: 11, FramesSkipped: 12, FramesRefused: 13}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"rttMs":12.346,"targetBitrate":1000000,"sentBitrate":900000,"resentBitrate":20000,"videoBytesSent":5,"videoBytesResent":1,` +
		`"peerLoss":0.25,"nacksReceived":3,"keyframeRequestsReceived":2,"resendsDropped":1,"keyframesSent":4,"videoPacketsReceived":100,` +
		`"nacksSent":6,"keyframeRequestsSent":7,"packetsRepaired":8,"packetsGivenUp":9,"framesDecoded":10,"framesIncomplete":11,` +
		`"framesSkipped":12,"framesRefused":13}`
	if string(b) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", b, want)
	}
	var back LinkStats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	s.RTT = 12346 * time.Microsecond // to the microsecond
	if back != s {
		t.Fatalf("decoded %+v, want %+v", back, s)
	}
	// As a message: what DecodeMessage makes of the decoded JSON.
	if got, err := DecodeMessage[LinkStats](decodeText(b)); err != nil || got != s {
		t.Fatalf("DecodeMessage: %+v, %v", got, err)
	}
}
