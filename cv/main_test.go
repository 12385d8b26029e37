package cv

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine is still running when
// they end. The UI thread that serves every window lives for the process by
// design (see Display), so it is not a leak.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/rtcbot-go/rtcbot/cv.uiLoop"))
}
