package rtcbot

import (
	"fmt"
	"image"
	"os/exec"
	"strconv"
)

// PiCameraSettings configures a Raspberry Pi camera module on the libcamera
// stack (RTCBot's PiCamera and PiCamera2), read through rpicam-vid, or
// libcamera-vid, its name before Raspberry Pi OS bookworm: NewPiCamera,
// NewPiCameraH264.
type PiCameraSettings struct {
	// Width and Height are the frame size in pixels (default 320x240, as
	// RTCBot's); FPS is the frame rate (default 30). The sensor mode and
	// scaling are rpicam-vid's choice. NewPiCamera needs a Width that is a
	// multiple of 64 (320, 640, 1280, 1920): rpicam-vid writes each raw
	// frame as the ISP's buffer, rows padded to a multiple of 64 bytes (on a
	// Pi 4 and earlier; a Pi 5's alignment is not known here).
	Width, Height, FPS int
	// Rotation is 0 or 180 degrees (rpicam-vid's --rotation takes nothing
	// else): another value is an error wrapping ErrInvalidSettings.
	Rotation int
	// HFlip and VFlip mirror the picture left to right and top to bottom.
	HFlip, VFlip bool
	// IntraPeriod is, for NewPiCameraH264, the frames between keyframes
	// (default FPS: one a second). A viewer who joins waits for the next
	// keyframe: rpicam-vid cannot be asked for one.
	IntraPeriod int
	// Bitrate is, for NewPiCameraH264, the encoder's bitrate in bits per
	// second (default 0: rpicam-vid's). Congestion control does not change
	// it: choose one the link carries.
	Bitrate int
	// Camera is the camera's index (rpicam-vid --camera, as listed by
	// rpicam-vid --list-cameras): 0, the default, is the first.
	Camera int
	// ExtraArgs are added to the command line, after the flags the
	// settings make (CommandLine): --shutter 8000, --denoise cdn_off,
	// --level 4.2, ... rpicam-vid refuses an option given twice, so do not
	// repeat one of those.
	ExtraArgs []string
	// Preprocess, if set, is applied to every frame of NewPiCamera, as
	// CameraSettings.Preprocess (RTCBot's preprocessframe).
	Preprocess func(image.Image) image.Image
	// Command is how the command is run: its restarts, stop timeout and
	// logger. Its Command field is ignored: CommandLine fills it in.
	Command CommandSettings
}

// piCameraCommands are the programs tried, in order, for the Pi camera: the
// first found on PATH is run.
var piCameraCommands = []string{"rpicam-vid", "libcamera-vid"}

// piCameraInstall is what the error of a missing rpicam-vid (or
// libcamera-vid) says to install.
func piCameraInstall(name string) string {
	hint := "on Raspberry Pi OS bookworm or later, sudo apt install rpicam-apps; on bullseye, sudo apt install libcamera-apps"
	if name == piCameraCommands[0] {
		hint = "nor is libcamera-vid, its name before bookworm: " + hint
	}
	return hint
}

func (s PiCameraSettings) withDefaults() PiCameraSettings {
	if s.Width <= 0 {
		s.Width = 320
	}
	if s.Height <= 0 {
		s.Height = 240
	}
	if s.FPS <= 0 {
		s.FPS = 30
	}
	if s.IntraPeriod <= 0 {
		s.IntraPeriod = s.FPS
	}
	return s
}

// CommandLine returns the command that NewPiCameraH264 (h264 true) or
// NewPiCamera (false) runs with these settings, defaults filled in: the
// first of rpicam-vid and libcamera-vid found on PATH (rpicam-vid if
// neither is), and its arguments. For H.264 at the defaults:
//
//	rpicam-vid -t 0 -n --codec h264 --profile baseline --inline --intra 30 --width 320 --height 240 --framerate 30 --flush -o -
//
// and for raw frames:
//
//	rpicam-vid -t 0 -n --codec yuv420 --width 320 --height 240 --framerate 30 --flush -o -
//
// -t 0 runs it until it is stopped, -n shows no preview window, --flush
// writes each frame as soon as it is ready and -o - writes to standard
// output; --inline repeats the SPS and PPS before every keyframe, for
// viewers who join later, and --profile baseline is the H.264 that
// browsers and aiortc accept. Rotation 180, HFlip, VFlip, a Bitrate and a
// Camera other than 0 add --rotation 180, --hflip, --vflip, --bitrate N
// and --camera N; ExtraArgs come last. Settings out of range (a Rotation
// other than 0 and 180, a negative Camera or Bitrate, a raw Width that is
// not a multiple of 64) are an error wrapping ErrInvalidSettings.
//
// The flags are those of rpicam-apps' documentation and options parser
// (core/options.cpp, core/video_options.hpp), which libcamera-vid shares.
func (s PiCameraSettings) CommandLine(h264 bool) ([]string, error) {
	s = s.withDefaults()
	switch {
	case s.Rotation != 0 && s.Rotation != 180:
		return nil, fmt.Errorf("%w: PiCameraSettings.Rotation %d: rpicam-vid rotates by 0 or 180 degrees only (HFlip and VFlip mirror)", ErrInvalidSettings, s.Rotation)
	case s.Camera < 0:
		return nil, fmt.Errorf("%w: PiCameraSettings.Camera %d is negative", ErrInvalidSettings, s.Camera)
	case s.Bitrate < 0:
		return nil, fmt.Errorf("%w: PiCameraSettings.Bitrate %d is negative", ErrInvalidSettings, s.Bitrate)
	case !h264 && s.Width%64 != 0:
		return nil, fmt.Errorf("%w: PiCameraSettings.Width %d: raw frames need a width that is a multiple of 64 "+
			"(rpicam-vid pads their rows to 64 bytes), such as %d; NewPiCameraH264 takes any", ErrInvalidSettings, s.Width, max(64, s.Width/64*64))
	}
	args := []string{piCameraCommand(), "-t", "0", "-n"}
	if h264 {
		args = append(args, "--codec", "h264", "--profile", "baseline", "--inline", "--intra", strconv.Itoa(s.IntraPeriod))
		if s.Bitrate > 0 {
			args = append(args, "--bitrate", strconv.Itoa(s.Bitrate))
		}
	} else {
		args = append(args, "--codec", "yuv420")
	}
	args = append(args, "--width", strconv.Itoa(s.Width), "--height", strconv.Itoa(s.Height), "--framerate", strconv.Itoa(s.FPS))
	if s.Rotation == 180 {
		args = append(args, "--rotation", "180")
	}
	if s.HFlip {
		args = append(args, "--hflip")
	}
	if s.VFlip {
		args = append(args, "--vflip")
	}
	if s.Camera != 0 {
		args = append(args, "--camera", strconv.Itoa(s.Camera))
	}
	args = append(args, "--flush", "-o", "-")
	return append(args, s.ExtraArgs...), nil
}

// piCameraCommand is the first of piCameraCommands on PATH, or the first
// of them if none is.
func piCameraCommand() string {
	for _, name := range piCameraCommands {
		if _, err := exec.LookPath(name); err == nil {
			return name
		}
	}
	return piCameraCommands[0]
}

// NewPiCamera returns a Raspberry Pi camera module's camera (RTCBot's
// PiCamera and PiCamera2): rpicam-vid writing raw I420 frames, as
// NewCommandCamera reads them (see CommandLine for the command). It is an
// ordinary camera, whose frames (*image.YCbCr) rtcbot encodes, VP8 or
// H.264, at the bitrate each connection's link carries; NewPiCameraH264
// passes the Pi's own H.264 encoder's stream through instead, with no
// encoding in this process.
//
// The camera closes, with an error through its error event, when its
// settings are out of range (ErrInvalidSettings) or rpicam-vid is not
// installed (ErrCommand, wrapping exec.ErrNotFound; the error says what to
// install). rpicam-vid is restarted when it ends (s.Command.RestartDelay),
// and stopped when the camera closes.
func NewPiCamera(s PiCameraSettings) *Camera {
	s = s.withDefaults()
	cs := CameraSettings{Width: s.Width, Height: s.Height, FPS: s.FPS, Device: s.Camera, Preprocess: s.Preprocess}
	line, err := s.CommandLine(false)
	if err != nil {
		return newFailedCamera(err, cs)
	}
	c := s.Command
	c.Command = line
	return newCommandCamera(c, cs, piCameraInstall(line[0]))
}

// NewPiCameraH264 returns the H.264 stream of a Raspberry Pi camera
// module, encoded by the Pi's hardware encoder (rpicam-vid --codec h264,
// see CommandLine), as a source that MediaStream.PutEncoded sends as it is,
// on connections with VideoSettings{Codec: "H264"}. Nothing is encoded in
// this process, so no H.264 encoder (package codec/h264) is needed, and
// the CPU that software encoding takes (most of what a robot streaming
// video spends) is left to the robot's own work. The price: the bitrate is
// the encoder's (s.Bitrate), not adapted to each link, and a viewer who
// joins waits for the next keyframe (s.IntraPeriod, a second by default).
// A Raspberry Pi 5 has no H.264 encoder: there rpicam-vid encodes with
// libx264 on the CPU instead (not tried with this source).
//
// The source closes, with an error through its error event, when its
// settings are out of range (ErrInvalidSettings) or rpicam-vid is not
// installed (ErrCommand, wrapping exec.ErrNotFound; the error says what to
// install). rpicam-vid is restarted when it ends (s.Command.RestartDelay),
// and stopped by Close.
func NewPiCameraH264(s PiCameraSettings) *EncodedSource {
	line, err := s.CommandLine(true)
	if err != nil {
		src, _ := newEncodedSource(EncodedStreamSettings{})
		src.cancel()
		close(src.exited)
		src.prod.SetError(err)
		src.prod.Close()
		return src
	}
	c := s.Command
	c.Command = line
	return newH264Command(c, EncodedStreamSettings{Logger: c.Logger}, piCameraInstall(line[0]))
}
