package rtcbot

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is still running when
// they end: every subscription, callback and consumer must stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitTime bounds every wait in these tests; nothing should come near it.
const waitTime = 5 * time.Second

// testCtx returns a context that ends after waitTime, so a test that would
// hang fails instead.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return ctx
}

// mustGet reads one item from g, failing the test on error.
func mustGet[T any](t testing.TB, g Getter[T]) T {
	t.Helper()
	v, err := g.Get(testCtx(t))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return v
}

// wantClosed checks that g.Get returns ErrClosed without waiting long.
func wantClosed[T any](t testing.TB, g Getter[T]) {
	t.Helper()
	v, err := g.Get(testCtx(t))
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Get = %v, %v; want ErrClosed", v, err)
	}
}

// wantEmpty checks that g holds nothing: a Get with an ended context
// returns the context's error.
func wantEmpty[T any](t testing.TB, g Getter[T]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v, err := g.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, %v; want nothing held (context.Canceled)", v, err)
	}
}

// recv receives one value from ch or fails after waitTime.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTime):
		t.Fatalf("nothing received in %v", waitTime)
		panic("unreachable")
	}
}

// closedWithin checks that ch is closed within waitTime.
func closedWithin(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTime):
		t.Fatalf("%s: not closed in %v", what, waitTime)
	}
}

// notClosed checks that ch is not closed now.
func notClosed(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s: closed, want open", what)
	default:
	}
}

// eventually polls cond until it holds or waitTime passes. It is used only
// where the code under test has no event to wait for.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %v", what, waitTime)
		}
		time.Sleep(time.Millisecond)
	}
}
