package rtcbot

// Keyboard is a keyboard read through Linux evdev, RTCBot's Keyboard: a
// producer of InputEvents such as
//
//	{'timestamp': 1553379212.684861, 'code': 'KEY_A', 'state': 1, 'event': 'Key'}
//
// with state 1 for a press, 0 for a release and 2 for an auto-repeat. Like
// RTCBot's it also reports the keyboard's other events (MSC_SCAN scan codes,
// LED changes); pass a Filter to keep only "Key" events. It is an
// InputDevice: Close releases the keyboard.
//
// Reading /dev/input/event* needs root or membership of the input group.
type Keyboard struct {
	*InputDevice
}

// NewKeyboard opens the keyboard at s.Path or, if it is empty, the first
// keyboard found in /dev/input (the first event device with keys A and
// space). No keyboard is an error wrapping os.ErrNotExist.
func NewKeyboard(s InputDeviceSettings) (*Keyboard, error) {
	d, err := openFoundInputDevice(s, "keyboard")
	if err != nil {
		return nil, err
	}
	return &Keyboard{d}, nil
}
