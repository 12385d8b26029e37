package rtcbot

import (
	"image"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The verbs every rtcbot source and sink shows: RTCBot's subscribe,
// unsubscribe, get, putSubscription, put_nowait, stopSubscription,
// subscription, close, and its ready / error / close events.
var (
	eventVerbs  = []string{"Close", "Done", "Err", "IsClosed", "IsReady", "OnClose", "OnError", "OnReady", "Ready", "Wait"}
	sourceVerbs = append([]string{"Get", "Subscribe", "SubscribeFunc", "SubscribeWith", "Unsubscribe", "UnsubscribeAll"}, eventVerbs...)
	sinkVerbs   = append([]string{"Put", "PutSubscription", "StopSubscription", "Subscription"}, eventVerbs...)
)

// implementationMethods are the producing and firing side of Producer,
// Consumer and Events: a user of a device must never see them.
var implementationMethods = []string{"Publish", "SetReady", "SetError", "SetClosed", "Subscribers"}

// apiSurface lists, for each device and stream type, exactly the methods it
// shows. Adding a method to one of these types means adding it here, on
// purpose.
var apiSurface = []struct {
	v       any
	methods []string
}{
	{(*Camera)(nil), with(sourceVerbs, "Settings")},
	{(*EncodedSource)(nil), with(sourceVerbs, "RequestKeyframe", "Stats")},
	{(*Microphone)(nil), with(sourceVerbs, "Settings")},
	{(*ToneSource)(nil), with(sourceVerbs, "Settings")},
	{(*Gamepad)(nil), with(sourceVerbs, "Name", "Path")},
	{(*SimulatedGamepad)(nil), sourceVerbs},
	{(*InputDevice)(nil), with(sourceVerbs, "Name", "Path")},
	{(*Keyboard)(nil), with(sourceVerbs, "Name", "Path")},
	{(*Mouse)(nil), with(sourceVerbs, "Name", "Path")},
	{(*Speaker)(nil), with(sinkVerbs, "Settings", "Buffered", "Underruns", "Dropped")},
	{(*HeadlessDisplay)(nil), with(sinkVerbs, "FPS", "Frames", "LastFrame", "Snapshot", "Stats")},
	{(*MediaStream[image.Image])(nil), mediaStreamMethods},
	{(*MediaStream[AudioChunk])(nil), mediaStreamMethods},
	{(*DataChannel)(nil), []string{
		"Close", "Done", "Err", "Flush", "Get", "IsLatestOnly", "Label", "OnClose", "OnError", "OnReady",
		"Put", "PutSubscription", "Ready", "Send", "Stats", "StopSubscription",
		"Subscribe", "SubscribeFunc", "SubscribeWith", "Unsubscribe", "UnsubscribeAll"}},
	{(*Connection)(nil), []string{
		"AddDataChannel", "AddLatestChannel", "Audio", "Close", "DataChannelByName", "Done", "Err", "Flush",
		"Get", "GetLocalDescription", "IsReady", "LinkStats", "OnClose", "OnDataChannel", "OnError", "OnReady",
		"Put", "PutSubscription", "Ready", "Send", "SetRemoteDescription", "StopSubscription",
		"Subscribe", "SubscribeFunc", "SubscribeWith", "Unsubscribe", "UnsubscribeAll", "Video", "Wait"}},
	{(*Websocket)(nil), with(sourceVerbs, "Put", "PutSubscription", "StopSubscription", "Subscription", "Send", "Flush", "Stats")},
	{(*Callback[int])(nil), []string{"Close", "Done"}},
	{(*SerialConnection)(nil), with(sourceVerbs, "Put", "PutSubscription", "StopSubscription", "Subscription", "Settings", "Stats", "Flush")},
	{(*GPS)(nil), with(sourceVerbs, "Latest", "Stats")},

	// The building blocks for sources and sinks of a program's own keep
	// their producing side, but fire the close event only through Close.
	{(*Producer[int])(nil), with(sourceVerbs, "Publish", "SetReady", "SetError", "Subscribers")},
	{(*Consumer[int])(nil), with(sinkVerbs, "SetReady", "SetError")},
	{(*Events)(nil), []string{"Done", "Err", "IsClosed", "IsReady", "OnClose", "OnError", "OnReady", "Ready",
		"SetClosed", "SetError", "SetReady", "Wait"}},
}

var mediaStreamMethods = []string{
	"AddTrack", "Err", "Get", "OfferToReceive", "OnError", "OnTrack", "Put", "PutEncoded", "PutSubscription", "Ready",
	"Subscribe", "SubscribeFunc", "SubscribeWith", "Unsubscribe"}

func with(base []string, more ...string) []string { return append(slices.Clone(base), more...) }

// TestAPISurface fails if a device or stream type shows a method it should
// not (an implementation method such as Publish or SetReady, through an
// embedded building block), lacks one of RTCBot's verbs, or has an exported
// field (such as an embedded *Producer or *DataChannel).
func TestAPISurface(t *testing.T) {
	for _, api := range apiSurface {
		checkMethodSet(t, reflect.TypeOf(api.v), api.methods)
	}
}

func checkMethodSet(t *testing.T, typ reflect.Type, want []string) {
	t.Helper()
	var got []string
	for m := range typ.Methods() {
		got = append(got, m.Name)
	}
	var extra, missing []string
	for _, name := range got {
		if !slices.Contains(want, name) {
			extra = append(extra, name)
		}
	}
	for _, name := range want {
		if !slices.Contains(got, name) {
			missing = append(missing, name)
		}
	}
	if len(extra) > 0 {
		t.Errorf("%v shows methods not in its API: %s", typ, strings.Join(extra, ", "))
	}
	if len(missing) > 0 {
		t.Errorf("%v lacks methods of its API: %s", typ, strings.Join(missing, ", "))
	}
	if typ.Elem().Kind() == reflect.Struct {
		for f := range typ.Elem().Fields() {
			if f.IsExported() && !isUserType(f.Type) {
				t.Errorf("%v has an exported field %s (%v): its methods leak into the type's API", typ, f.Name, f.Type)
			}
		}
	}
}

// isUserType reports whether typ is one of the device and stream types
// whose API apiSurface checks (Keyboard embeds *InputDevice, which shows
// only the verbs).
func isUserType(typ reflect.Type) bool {
	for _, api := range apiSurface {
		if reflect.TypeOf(api.v) == typ && !isBuildingBlock(typ) {
			return true
		}
	}
	return false
}

func isBuildingBlock(typ reflect.Type) bool {
	switch typ {
	case reflect.TypeFor[*Producer[int]](), reflect.TypeFor[*Consumer[int]](), reflect.TypeFor[*Events]():
		return true
	}
	return false
}

// TestAPISurfaceHidesImplementation checks the rule the lists above follow:
// no device or stream shows an implementation method.
func TestAPISurfaceHidesImplementation(t *testing.T) {
	for _, api := range apiSurface {
		typ := reflect.TypeOf(api.v)
		if isBuildingBlock(typ) {
			continue // their implementation side is their point
		}
		for _, name := range implementationMethods {
			if _, ok := typ.MethodByName(name); ok {
				t.Errorf("%v shows the implementation method %s", typ, name)
			}
		}
	}
}
