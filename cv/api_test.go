package cv

import (
	"reflect"
	"slices"
	"testing"
)

// TestDisplayAPISurface fails if Display shows a method other than RTCBot's
// verbs for a sink and its own Name: in particular the implementation side
// of the rtcbot.Consumer it holds (SetReady, SetError), or an exported
// field through which it leaks.
func TestDisplayAPISurface(t *testing.T) {
	want := []string{"Close", "Done", "Err", "IsClosed", "IsReady", "Name", "OnClose", "OnError", "OnReady",
		"Put", "PutSubscription", "Ready", "StopSubscription", "Subscription", "Wait"}
	typ := reflect.TypeFor[*Display]()
	var got []string
	for m := range typ.Methods() {
		got = append(got, m.Name)
	}
	if !slices.Equal(got, want) { // both sorted
		t.Errorf("*cv.Display methods %v, want %v", got, want)
	}
	for f := range typ.Elem().Fields() {
		if f.IsExported() {
			t.Errorf("*cv.Display has an exported field %s", f.Name)
		}
	}
}
