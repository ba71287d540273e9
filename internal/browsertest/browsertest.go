// Package browsertest starts headless Chromium for the tests that drive
// gatehouse's pages in a real browser (chromedp): the account pages'
// journey and the quickstart's. It lives here so that each browser test
// keeps only its journey; it is for tests only.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// StartTimeout bounds starting the browser and opening a tab.
const StartTimeout = 30 * time.Second

// New starts headless Chromium for the test, with opts added to its
// allocator options, and stops it when the test ends; on failure the test
// log gets Chromium's output. It skips the test when Chromium is not
// installed, unless GATEHOUSE_REQUIRE_BROWSER=1 (make test sets it, after
// installing it).
func New(t *testing.T, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := chromiumPath(t)
	out := new(lockedBuffer)
	all := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.CombinedOutput(out),
		// As root on a machine without a display or a GPU.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// No traffic of Chromium's own: the network may be closed, and
		// every refused connection would be noise in its log.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		// The test servers have httptest's self-signed certificate; TLS
		// is what lets a Secure (__Host-) cookie be set at all.
		chromedp.IgnoreCertErrors,
		// chromedp gives each browser a fresh --user-data-dir under the
		// temporary directory and removes it when the browser stops.
	)
	all = append(all, opts...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			t.Logf("chromium's output (less its D-Bus complaints):\n%s", withoutDBus(out.String()))
		}
	})
	// The first run starts the browser and ties it to ctx, so it cannot
	// carry a deadline of its own: a timer cancels it instead.
	start(t, ctx, cancel, "start chromium")
	return ctx
}

// NewTab opens a tab in a new browser context of browser (its own cookie
// jar, like a private window) and closes it when the test ends.
func NewTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	start(t, ctx, cancel, "open a tab")
	return ctx
}

// start runs nothing on ctx, which starts its browser or tab, and gives
// up after StartTimeout.
func start(t *testing.T, ctx context.Context, cancel context.CancelFunc, what string) {
	t.Helper()
	timer := time.AfterFunc(StartTimeout, cancel)
	err := chromedp.Do(ctx)
	if !timer.Stop() {
		t.Fatalf("%s: not done after %v (%v)", what, StartTimeout, err)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "chromium is not installed; `make test` installs it (Debian package chromium) and runs this test"
	if os.Getenv("GATEHOUSE_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// withoutDBus drops the lines in which Chromium complains that it has no
// D-Bus, as on every machine without a desktop session.
func withoutDBus(log string) string {
	var keep []string
	for line := range strings.Lines(log) {
		if !strings.Contains(line, "dbus") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

// lockedBuffer is a bytes.Buffer that Chromium's output goroutine and the
// test may use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
