package rtcbot

import "strconv"

// The evdev names of the keys a browser reports, for BrowserInputEvent:
// by KeyboardEvent.code, by the legacy KeyboardEvent.keyCode, and by
// KeyboardEvent.key. Every name is one of keyCodeNames'. Codes are paired
// with evdev keys as Chromium's table of them (dom_code_data.inc) pairs
// them; keyCode and key values are a US layout's.

// browserCodeKeys maps KeyboardEvent.code to the evdev key.
var browserCodeKeys = func() map[string]string {
	m := map[string]string{
		"Escape": "KEY_ESC", "Minus": "KEY_MINUS", "Equal": "KEY_EQUAL",
		"Backspace": "KEY_BACKSPACE", "Tab": "KEY_TAB", "Enter": "KEY_ENTER", "Space": "KEY_SPACE",
		"BracketLeft": "KEY_LEFTBRACE", "BracketRight": "KEY_RIGHTBRACE", "Backslash": "KEY_BACKSLASH",
		"Semicolon": "KEY_SEMICOLON", "Quote": "KEY_APOSTROPHE", "Backquote": "KEY_GRAVE",
		"Comma": "KEY_COMMA", "Period": "KEY_DOT", "Slash": "KEY_SLASH", "IntlBackslash": "KEY_102ND",
		"ShiftLeft": "KEY_LEFTSHIFT", "ShiftRight": "KEY_RIGHTSHIFT",
		"ControlLeft": "KEY_LEFTCTRL", "ControlRight": "KEY_RIGHTCTRL",
		"AltLeft": "KEY_LEFTALT", "AltRight": "KEY_RIGHTALT",
		"MetaLeft": "KEY_LEFTMETA", "MetaRight": "KEY_RIGHTMETA",
		"OSLeft": "KEY_LEFTMETA", "OSRight": "KEY_RIGHTMETA", // Firefox before 118
		"ContextMenu": "KEY_COMPOSE", "CapsLock": "KEY_CAPSLOCK",
		"NumLock": "KEY_NUMLOCK", "ScrollLock": "KEY_SCROLLLOCK",
		"PrintScreen": "KEY_SYSRQ", "Pause": "KEY_PAUSE",
		"Insert": "KEY_INSERT", "Delete": "KEY_DELETE", "Home": "KEY_HOME", "End": "KEY_END",
		"PageUp": "KEY_PAGEUP", "PageDown": "KEY_PAGEDOWN",
		"ArrowUp": "KEY_UP", "ArrowDown": "KEY_DOWN", "ArrowLeft": "KEY_LEFT", "ArrowRight": "KEY_RIGHT",
		"NumpadDivide": "KEY_KPSLASH", "NumpadMultiply": "KEY_KPASTERISK",
		"NumpadSubtract": "KEY_KPMINUS", "NumpadAdd": "KEY_KPPLUS", "NumpadEnter": "KEY_KPENTER",
		"NumpadDecimal": "KEY_KPDOT", "NumpadEqual": "KEY_KPEQUAL", "NumpadComma": "KEY_KPCOMMA",
		"AudioVolumeMute": "KEY_MUTE", "AudioVolumeDown": "KEY_VOLUMEDOWN", "AudioVolumeUp": "KEY_VOLUMEUP",
	}
	for c := 'A'; c <= 'Z'; c++ {
		m["Key"+string(c)] = "KEY_" + string(c)
	}
	for d := '0'; d <= '9'; d++ {
		m["Digit"+string(d)] = "KEY_" + string(d)
		m["Numpad"+string(d)] = "KEY_KP" + string(d)
	}
	for n := 1; n <= 24; n++ {
		m["F"+strconv.Itoa(n)] = "KEY_F" + strconv.Itoa(n)
	}
	return m
}()

// browserKeyCodeKeys maps KeyboardEvent.keyCode to the evdev key. A keyCode
// does not tell left from right: Shift, Control, Alt and Meta are the left
// one, and Enter is the main one.
var browserKeyCodeKeys = func() map[int]string {
	m := map[int]string{
		8: "KEY_BACKSPACE", 9: "KEY_TAB", 13: "KEY_ENTER",
		16: "KEY_LEFTSHIFT", 17: "KEY_LEFTCTRL", 18: "KEY_LEFTALT", 19: "KEY_PAUSE", 20: "KEY_CAPSLOCK",
		27: "KEY_ESC", 32: "KEY_SPACE", 33: "KEY_PAGEUP", 34: "KEY_PAGEDOWN", 35: "KEY_END", 36: "KEY_HOME",
		37: "KEY_LEFT", 38: "KEY_UP", 39: "KEY_RIGHT", 40: "KEY_DOWN",
		44: "KEY_SYSRQ", 45: "KEY_INSERT", 46: "KEY_DELETE",
		59: "KEY_SEMICOLON", 61: "KEY_EQUAL", // Firefox's
		91: "KEY_LEFTMETA", 92: "KEY_RIGHTMETA", 93: "KEY_COMPOSE",
		106: "KEY_KPASTERISK", 107: "KEY_KPPLUS", 109: "KEY_KPMINUS", 110: "KEY_KPDOT", 111: "KEY_KPSLASH",
		144: "KEY_NUMLOCK", 145: "KEY_SCROLLLOCK",
		186: "KEY_SEMICOLON", 187: "KEY_EQUAL", 188: "KEY_COMMA", 189: "KEY_MINUS", 190: "KEY_DOT",
		191: "KEY_SLASH", 192: "KEY_GRAVE", 219: "KEY_LEFTBRACE", 220: "KEY_BACKSLASH",
		221: "KEY_RIGHTBRACE", 222: "KEY_APOSTROPHE", 226: "KEY_102ND",
	}
	for c := 'A'; c <= 'Z'; c++ {
		m[int(c)] = "KEY_" + string(c)
	}
	for d := range 10 {
		m['0'+d] = "KEY_" + strconv.Itoa(d)
		m[96+d] = "KEY_KP" + strconv.Itoa(d)
	}
	for n := 1; n <= 24; n++ {
		m[111+n] = "KEY_F" + strconv.Itoa(n)
	}
	return m
}()

// browserKeyChars maps a KeyboardEvent.key that is a character of a US
// keyboard, shifted or not, to the evdev key that types it.
var browserKeyChars = func() map[string]string {
	m := map[string]string{" ": "KEY_SPACE"}
	for c := 'A'; c <= 'Z'; c++ {
		m[string(c)] = "KEY_" + string(c)
		m[string(c+'a'-'A')] = "KEY_" + string(c)
	}
	for d, shifted := range ")!@#$%^&*(" {
		m[strconv.Itoa(d)] = "KEY_" + strconv.Itoa(d)
		m[string(shifted)] = "KEY_" + strconv.Itoa(d)
	}
	for _, k := range []struct{ chars, name string }{
		{"-_", "KEY_MINUS"}, {"=+", "KEY_EQUAL"}, {"[{", "KEY_LEFTBRACE"}, {"]}", "KEY_RIGHTBRACE"},
		{`\|`, "KEY_BACKSLASH"}, {";:", "KEY_SEMICOLON"}, {`'"`, "KEY_APOSTROPHE"}, {"`~", "KEY_GRAVE"},
		{",<", "KEY_COMMA"}, {".>", "KEY_DOT"}, {"/?", "KEY_SLASH"},
	} {
		for _, c := range k.chars {
			m[string(c)] = k.name
		}
	}
	return m
}()

// browserKeyModifiers maps the KeyboardEvent.key of a modifier, which does
// not tell left from right, to the evdev key: the left one. The other named
// keys' values are their KeyboardEvent.code ("Enter", "ArrowUp", "F1").
var browserKeyModifiers = map[string]string{
	"Shift": "KEY_LEFTSHIFT", "Control": "KEY_LEFTCTRL", "Alt": "KEY_LEFTALT",
	"AltGraph": "KEY_RIGHTALT", "Meta": "KEY_LEFTMETA",
}
