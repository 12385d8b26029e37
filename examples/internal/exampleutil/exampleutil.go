// Package exampleutil holds the few lines every tutorial example in
// examples/ would otherwise repeat: opening the camera its -camera flag asks
// for, opening a window, serving with limits, and printing the URL of its
// page. It is internal:
// the examples are meant to be read and copied, and a program of your own
// can copy these functions with them, or write what suits it.
//
// OpenCV is linked only by a build that asks for it with the opencv build
// tag (go build -tags opencv ./examples/...), which adds the OpenCV camera
// and window of package rtcbot/cv (opencv.go). Without it the examples link
// no OpenCV, and their real camera is package rtcbot/v4l2's.
package exampleutil

import (
	"net"
	"net/http"
	"net/url"
	"time"
)

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

// NewServer returns an http.Server for handler with limits, so that slow
// or idle clients cannot hold a robot's connections open: 10 s to send the
// headers (16 KB at most), 30 s for the request and for the response (an
// answer waits for ICE gathering, a few seconds at most), 2 min idle.
// Websockets, once accepted, are not limited (net/http clears the limits of
// a connection it hands over).
func NewServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
}
