package rtcbot

import "testing"

func TestKeyboardEvents(t *testing.T) {
	// A keyboard reports a scan code, the key, then SYN_REPORT; holding the
	// key repeats it.
	d, w := pipeDevice(t, func(e InputEvent) bool { return e.Event == InputKey })
	k := &Keyboard{d}
	sub := k.Subscribe()
	writeRecords(t, w,
		rec(evMsc, codeMscScan, 0x70004), rec(evKey, codeKeyA, 1), rec(evSyn, 0, 0),
		rec(evKey, codeKeyA, 2), rec(evSyn, 0, 0),
		rec(evMsc, codeMscScan, 0x70004), rec(evKey, codeKeyA, 0), rec(evSyn, 0, 0),
		rec(evKey, 57, 1), rec(evSyn, 0, 0))
	if got, want := codes(readEvents(t, sub, 4)), "Key:KEY_A=1 Key:KEY_A=2 Key:KEY_A=0 Key:KEY_SPACE=1"; got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	k.Close()
	wantClosed(t, sub)
}
