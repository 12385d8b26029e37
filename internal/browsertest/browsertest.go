// Package browsertest runs tests in a real headless Chromium (Debian's
// chromium package) driven through chromedp: the browser side of rtcbot's
// tests. It is for this module's tests only.
package browsertest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// InstallCommand installs the browser the tests need.
const InstallCommand = "sudo apt-get install chromium (or bash scripts/setup.sh)"

// Timeout bounds one browser test's page work, from start to end.
const Timeout = 60 * time.Second

// Flags are Chromium's command-line flags for the tests: headless, no GPU,
// fake camera and microphone granted without asking, autoplay, real host
// addresses in ICE candidates (with mDNS names only, a peer on 127.0.0.1
// that does not resolve them could not connect), and a candidate on
// 127.0.0.1 too, which Chromium leaves out unless told: a test's peer can
// then keep only the offer's 127.0.0.1 candidates and send only there.
var Flags = []chromedp.ExecAllocatorOption{
	chromedp.Headless,
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.NoFirstRun,
	chromedp.NoDefaultBrowserCheck,
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-background-timer-throttling", true),
	chromedp.Flag("disable-renderer-backgrounding", true),
	chromedp.Flag("disable-backgrounding-occluded-windows", true),
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	chromedp.Flag("disable-features", "Translate,WebRtcHideLocalIpsWithMdns"),
	chromedp.Flag("allow-loopback-in-peer-connection", true),
}

// Path returns the path of the chromium executable, failing the test with
// the command that installs it if there is none.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("browsertest: no chromium on PATH; install it: %s", InstallCommand)
	return ""
}

// Browser is one headless Chromium with a fresh profile, shut down when the
// test ends.
type Browser struct {
	t        testing.TB
	allocCtx context.Context

	mu         sync.Mutex
	browserCtx context.Context // the first tab's, which holds the browser
}

// Start starts a browser for t, with extra flags after Flags. What pages
// write to the console, and their uncaught exceptions, go to t.Log.
func Start(t testing.TB, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path(t)),
		chromedp.UserDataDir(t.TempDir()),
	}, Flags...)
	opts = append(opts, extra...)
	allocCtx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel) // waits for the browser process to end
	return &Browser{t: t, allocCtx: allocCtx}
}

// Tab opens a new tab, closed when the test ends, and returns its context,
// which ends after Timeout. The first tab starts the browser; later ones
// open in the same browser (a context made from the allocator would start
// another Chromium on the same profile, which hands over to the first and
// exits).
func (b *Browser) Tab() context.Context {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	parent := b.browserCtx
	if parent == nil {
		parent = b.allocCtx
	}
	tab, cancelTab := chromedp.NewContext(parent)
	// The first run on a context binds the browser's life to that context,
	// so it is the tab's, without the timeout. Console before the tab
	// starts: see Console.
	messages := chromedp.Console(tab)
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		b.t.Fatalf("browsertest: start chromium: %v", err)
	}
	if b.browserCtx == nil {
		b.browserCtx = tab
	}
	ctx, cancelTimeout := context.WithTimeout(tab, Timeout)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			b.logf("browser console: %s", m)
		}
	}()
	// Cleanups run last first: the first tab, which holds the browser,
	// closes after the others.
	b.t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		wg.Wait()
	})
	return ctx
}

// logf logs through t unless the test has ended (the console reader may
// still be draining).
func (b *Browser) logf(format string, args ...any) {
	defer func() { _ = recover() }() // t.Log after the test ended panics
	b.t.Logf(format, args...)
}

// Open navigates the tab to url and waits for the page to load.
func Open(t testing.TB, tab context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("browsertest: open %s: %v", url, err)
	}
}

// Eval evaluates a JavaScript expression in the tab, awaiting it if it is a
// promise, and decodes its JSON value into T, failing the test on error.
func Eval[T any](t testing.TB, tab context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browsertest: evaluate %s: %v", shorten(expression), err)
	}
	return v
}

// WaitFor polls a JavaScript expression until it is truthy, failing the
// test with what with says if the tab's context ends first.
func WaitFor(t testing.TB, tab context.Context, expression, what string) {
	t.Helper()
	if _, err := chromedp.Run(tab, chromedp.Poll[bool]("Boolean("+expression+")", chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("browsertest: waiting for %s (%s): %v", what, shorten(expression), err)
	}
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return fmt.Sprintf("%q", s)
}
