// Package exampleutil holds the few lines every tutorial example in
// examples/ would otherwise repeat: opening the camera its -camera flag asks
// for, and printing the URL of its page. It is internal: the examples are
// meant to be read and copied, and a program of your own can copy these two
// functions with them, or write what suits it.
package exampleutil

import (
	"fmt"
	"net"
	"net/url"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/cv"
)

// OpenCamera opens the camera a -camera flag asks for, with settings cs:
// "cv" is an OpenCV camera (cv.NewCamera), "testpattern" the synthetic one
// (rtcbot.NewTestPatternCamera), and "auto" an OpenCV camera if there is
// one, else the test pattern, saying so in one line on standard output. Any
// other kind is an error, as is a test pattern too small to carry its stamp
// (an error wrapping rtcbot.ErrFrameTooSmall).
func OpenCamera(kind string, cs rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	switch kind {
	case "testpattern":
		return testPattern(cs)
	case "cv":
		return cv.NewCamera(cs)
	case "auto":
		cam, err := cv.NewCamera(cs)
		if err == nil {
			return cam, nil
		}
		fmt.Printf("No camera (%v): using the test pattern instead.\n", err)
		return testPattern(cs)
	}
	return nil, fmt.Errorf("unknown camera %q (want auto, cv or testpattern)", kind)
}

// testPattern is rtcbot.NewTestPatternCamera with its size error returned.
func testPattern(cs rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	cam := rtcbot.NewTestPatternCamera(cs)
	if err := cam.Err(); err != nil {
		return nil, err
	}
	return cam, nil
}

// PageURL is the address to open in a browser on this machine for a server
// listening on a, with token as the page's token query parameter (which the
// page sends with its offer): an unspecified listening address (":8080",
// "0.0.0.0:8080") becomes localhost.
func PageURL(a net.Addr, token string) string {
	hostport := a.String()
	if host, port, err := net.SplitHostPort(hostport); err == nil {
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			host = "localhost"
		}
		hostport = net.JoinHostPort(host, port)
	}
	return "http://" + hostport + "/?token=" + url.QueryEscape(token)
}
