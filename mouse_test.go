package rtcbot

import "testing"

func TestMouseEvents(t *testing.T) {
	d, w := pipeDevice(t, nil)
	m := &Mouse{d}
	sub := m.Subscribe()
	writeRecords(t, w,
		rec(evRel, codeRelX, 4), rec(evRel, codeRelY, -2), rec(evSyn, 0, 0),
		rec(evMsc, codeMscScan, 0x90001), rec(evKey, codeBtnLeft, 1), rec(evSyn, 0, 0),
		rec(evKey, codeBtnLeft, 0), rec(evSyn, 0, 0),
		rec(evRel, codeRelWheel, -1), rec(evSyn, 0, 0))
	want := "Relative:REL_X=4 Relative:REL_Y=-2 Misc:MSC_SCAN=589825 Key:BTN_LEFT=1 Key:BTN_LEFT=0 Relative:REL_WHEEL=-1"
	if got := codes(readEvents(t, sub, 6)); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	m.Close()
	wantClosed(t, sub)
}
