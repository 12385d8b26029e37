package exampleutil

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// Video is what OpenVideo opens: a camera, whose pictures rtcbot encodes,
// or a source of H.264 that something else encoded (the Pi's hardware
// encoder, a command), sent as it is. One of the two is set.
type Video struct {
	Camera  *rtcbot.Camera
	Encoded *rtcbot.EncodedSource
}

// Codec is the VideoSettings.Codec a connection sending v needs: "H264"
// for encoded video, whatever the program chooses ("") for a camera.
func (v Video) Codec() string {
	if v.Encoded != nil {
		return "H264"
	}
	return ""
}

// Send puts v on conn's outgoing video: PutEncoded or PutSubscription.
func (v Video) Send(conn *rtcbot.Connection) {
	if v.Encoded != nil {
		conn.Video().PutEncoded(v.Encoded)
		return
	}
	conn.Video().PutSubscription(v.Camera)
}

// Close closes the camera or the source.
func (v Video) Close() error {
	if v.Encoded != nil {
		return v.Encoded.Close()
	}
	return v.Camera.Close()
}

// startWait is how long OpenVideo waits for the first frame of a command's
// video before going on without it.
const startWait = 10 * time.Second

// OpenVideo opens the video a robot's -camera flag asks for, with settings
// cs (size, rate, camera number):
//
//   - "pi": a Raspberry Pi camera module's H.264 from the Pi's hardware
//     encoder, sent as it is (rtcbot.NewPiCameraH264, through rpicam-vid);
//   - "pi-raw": the same camera's raw frames, encoded by rtcbot
//     (rtcbot.NewPiCamera);
//   - "cmd:COMMAND": the H.264 Annex-B stream that COMMAND writes on its
//     standard output, sent as it is (rtcbot.NewH264Command). COMMAND is
//     split into words as a shell would, honouring single and double quotes
//     and backslashes (SplitCommand), and run without a shell:
//     cmd:ffmpeg -f v4l2 -i /dev/video0 -c:v h264_v4l2m2m -g 30 -bsf:v dump_extra -f h264 -;
//   - anything else: a camera, as OpenCamera opens it.
//
// For "pi", "pi-raw" and "cmd:", it waits for the first frame: an error
// (rpicam-vid not installed, the command not found, invalid settings) is
// returned; when no frame has come after 10 s it says so on standard
// output and returns the video, whose command keeps being restarted.
func OpenVideo(kind string, cs rtcbot.CameraSettings) (Video, error) {
	pi := rtcbot.PiCameraSettings{Width: cs.Width, Height: cs.Height, FPS: cs.FPS, Camera: cs.Device, Preprocess: cs.Preprocess}
	switch {
	case kind == "pi":
		v := Video{Encoded: rtcbot.NewPiCameraH264(pi)}
		return v, started(v, v.Encoded.Ready(), v.Encoded.Done(), v.Encoded.Err, "-camera pi")
	case kind == "pi-raw":
		v := Video{Camera: rtcbot.NewPiCamera(pi)}
		return v, started(v, v.Camera.Ready(), v.Camera.Done(), v.Camera.Err, "-camera pi-raw")
	case strings.HasPrefix(kind, "cmd:"):
		words, err := SplitCommand(strings.TrimPrefix(kind, "cmd:"))
		if err != nil {
			return Video{}, fmt.Errorf("-camera %s: %w", kind, err)
		}
		if len(words) == 0 {
			return Video{}, errors.New("-camera cmd: needs a command, such as cmd:'rpicam-vid -t 0 -n --codec h264 --inline --flush -o -'")
		}
		v := Video{Encoded: rtcbot.NewH264Command(rtcbot.CommandSettings{Command: words}, rtcbot.EncodedStreamSettings{})}
		return v, started(v, v.Encoded.Ready(), v.Encoded.Done(), v.Encoded.Err, "-camera cmd:"+words[0])
	}
	switch kind {
	case "auto", "v4l2", "cv", "testpattern":
		cam, err := OpenCamera(kind, cs)
		return Video{Camera: cam}, err
	}
	return Video{}, fmt.Errorf("unknown camera %q (want auto, v4l2, cv, testpattern, pi, pi-raw or cmd:COMMAND)", kind)
}

// started waits for v's first frame (ready) or its end (done), for up to
// startWait. An end is an error, and v is closed.
func started(v Video, ready, done <-chan struct{}, errOf func() error, what string) error {
	t := time.NewTimer(startWait)
	defer t.Stop()
	select {
	case <-ready:
		return nil
	case <-done:
		v.Close()
		if err := errOf(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return fmt.Errorf("%s: ended before its first frame", what)
	case <-t.C:
		fmt.Printf("%s: no frame after %v; waiting for one.\n", what, startWait)
		return nil
	}
}

// SplitCommand splits s into words as a POSIX shell does, without
// expanding anything: words are separated by unquoted blanks; inside
// single quotes every character is itself; inside double quotes a
// backslash escapes only $, `, ", \ and a newline; elsewhere a backslash
// escapes the next character. An unterminated quote or a trailing
// backslash is an error.
func SplitCommand(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote in %q", s)
			}
			word.WriteString(s[i+1 : i+1+end])
			i += 1 + end
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue // a line continued
					}
				}
				word.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote in %q", s)
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("trailing backslash in %q", s)
			}
			i++
			if s[i] == '\n' {
				continue // a line continued
			}
			word.WriteByte(s[i])
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
