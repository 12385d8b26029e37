package exampleutil

import (
	"fmt"
	"image"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// DesktopScale is how many times larger a desktop shows the robot's video,
// so that it is easy to see: the tutorial's cv2.resize(frame, (w*4, h*4)).
// The display enlarges into a buffer of its own, reused: a window every
// frame, a headless display its snapshots.
const DesktopScale = 4

// Display is what a desktop shows frames on: a window or headless.
type Display interface {
	Put(image.Image)
	Close() error
}

// OpenDesktopDisplay opens the display a desktop's -display flag asks for:
// "cv" (an OpenCV window, in a -tags opencv build), "headless" (an fps
// line every 5 s, and the latest frame in snapshot unless it is empty), or
// "auto", a window if one opens, else headless, saying so in one line.
func OpenDesktopDisplay(kind, snapshot string) (Display, error) {
	headless := func() Display {
		return rtcbot.NewHeadlessDisplay(rtcbot.HeadlessDisplaySettings{
			Scale:        DesktopScale,
			Interval:     5 * time.Second,
			SnapshotPath: snapshot,
			Report: func(s rtcbot.DisplayStats) {
				if s.Frames > 0 {
					fmt.Printf("Display: %d frames, %.1f fps, %dx%d\n", s.Frames, s.FPS, s.Size.X, s.Size.Y)
				}
			},
		})
	}
	switch kind {
	case "headless":
		return headless(), nil
	case "cv":
		return OpenWindow("robot", DesktopScale)
	case "auto":
		d, err := OpenWindow("robot", DesktopScale)
		if err == nil {
			return d, nil
		}
		if snapshot != "" {
			fmt.Printf("No screen (%v): using a headless display, snapshots in %s.\n", err, snapshot)
		} else {
			fmt.Printf("No screen (%v): using a headless display.\n", err)
		}
		return headless(), nil
	}
	return nil, fmt.Errorf("unknown display %q (want auto, cv or headless)", kind)
}

// Gamepad is a source of input events: a real or a simulated gamepad.
type Gamepad interface {
	rtcbot.Source[rtcbot.InputEvent]
	Close() error
}

// OpenGamepad opens the gamepad a desktop's -gamepad flag asks for:
// "device" (device, or the first gamepad found if it is empty),
// "simulated" (one with the settings simulated), or "auto", a device if
// one opens, else simulated, saying so in one line.
func OpenGamepad(kind, device string, simulated rtcbot.SimulatedGamepadSettings) (Gamepad, error) {
	switch kind {
	case "simulated":
		return rtcbot.NewSimulatedGamepad(simulated), nil
	case "device":
		return rtcbot.NewGamepad(rtcbot.GamepadSettings{Path: device})
	case "auto":
		g, err := rtcbot.NewGamepad(rtcbot.GamepadSettings{Path: device})
		if err == nil {
			return g, nil
		}
		fmt.Printf("No gamepad (%v): using a simulated gamepad.\n", err)
		return rtcbot.NewSimulatedGamepad(simulated), nil
	}
	return nil, fmt.Errorf("unknown gamepad %q (want auto, device or simulated)", kind)
}
