package rtcbot

// Mouse is a mouse read through Linux evdev, RTCBot's Mouse: a producer of
// InputEvents such as
//
//	{'timestamp': 1553379212.684861, 'code': 'REL_X', 'state': -3, 'event': 'Relative'}
//	{'timestamp': 1553379212.70012, 'code': 'BTN_LEFT', 'state': 1, 'event': 'Key'}
//
// (REL_X and REL_Y motion, REL_WHEEL, BTN_LEFT, BTN_RIGHT, BTN_MIDDLE ...).
// It is an InputDevice: Close releases the mouse.
//
// Reading /dev/input/event* needs root or membership of the input group.
type Mouse struct {
	*InputDevice
}

// NewMouse opens the mouse at s.Path or, if it is empty, the first mouse
// found in /dev/input (the first event device with relative X and Y axes and
// a left button). No mouse is an error wrapping os.ErrNotExist.
func NewMouse(s InputDeviceSettings) (*Mouse, error) {
	d, err := openFoundInputDevice(s, "mouse")
	if err != nil {
		return nil, err
	}
	return &Mouse{d}, nil
}
