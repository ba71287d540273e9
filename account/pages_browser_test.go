package account_test

// The account pages in a real browser: headless Chromium, driven over the
// DevTools protocol by chromedp, against the pages and the API served over
// TLS with a production cookie (__Host-, Secure). TestPagesRoutes checks
// each page with a Go client; this test walks the whole journey as a user
// does, with two browsers of one user, and takes a screenshot of every
// page it passes (set GATEHOUSE_SCREENSHOTS to a directory to keep them).

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/internal/browsertest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	qr "github.com/piglig/go-qr"
)

// browserStepTimeout bounds each browser step.
const browserStepTimeout = 20 * time.Second

// productionCookies gives the harness the cookie a deployed app has: the
// __Host- default name, Secure, with a Guard that reads it.
func productionCookies(t *testing.T) harnessConfig {
	return func(c *account.Config) {
		cookies, err := middleware.NewCookies(middleware.CookieConfig{HashKey: testfix.TagKey})
		if err != nil {
			t.Fatal(err)
		}
		guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: c.Tokens, Cookies: cookies})
		if err != nil {
			t.Fatal(err)
		}
		c.Cookies, c.Guard = cookies, guard
	}
}

// TestPagesBrowserJourney: signup, the mailed link, confirm, login, the
// sessions page, revoke the other browser's session (its next page is the
// login page), change password, log out; then a forgotten password, reset
// from its mailed link, on a phone-sized screen in dark mode.
func TestPagesBrowserJourney(t *testing.T) {
	browser := browsertest.New(t)
	h := newHarness(t, teststores.All()[0].Open, productionCookies(t))
	srv := pagesServer(t, h, true)
	base := srv.URL + pagesPath
	shots := newShots(t)

	laptop := browsertest.NewTab(t, browser)
	bstep(t, laptop, "desktop viewport", chromedp.EmulateViewport(1100, 800))

	// Signup, and the check-email page.
	bstep(t, laptop, "open the signup page", chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(chromedp.ID("signup")))
	shots.take(laptop, "01-signup")
	bstep(t, laptop, "sign up",
		chromedp.SendKeys(chromedp.ID("email"), "ada@example.com"),
		chromedp.SendKeys(chromedp.ID("username"), "ada"),
		chromedp.SendKeys(chromedp.ID("password"), strongPassword),
		chromedp.Click(chromedp.CSS(`#signup button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("check-email")))
	shots.take(laptop, "02-check-email")

	// The mailed link opens the confirm page; its button confirms.
	m := h.mail.Last(t)
	link := account.PageLink(base, m)
	if !strings.HasPrefix(link, base+"/confirm?token=") {
		t.Fatalf("the confirmation mail links to %q", link)
	}
	bstep(t, laptop, "open the mailed link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("confirm")))
	shots.take(laptop, "03-confirm")
	if u, _ := h.users.FindUser(t.Context(), "ada@example.com"); u.EmailConfirmed {
		t.Fatal("opening the link confirmed the address: a mail scanner would have spent it")
	}
	bstep(t, laptop, "press confirm", chromedp.Click(chromedp.CSS(`#confirm button`)), chromedp.WaitVisible(chromedp.ID("login")))
	if got := brun(t, laptop, "read the notice", chromedp.Text(chromedp.ID("notice"))); !strings.Contains(got, "confirmed") {
		t.Errorf("after confirming: notice %q", got)
	}
	shots.take(laptop, "04-login-confirmed")

	// A wrong password first, then the right one.
	loginIn(t, laptop, "ada@example.com", "not the password at all", false)
	if got := brun(t, laptop, "read the error", chromedp.Text(chromedp.ID("error"))); !strings.Contains(got, "do not match") {
		t.Errorf("wrong password: error %q", got)
	}
	shots.take(laptop, "05-login-error")
	loginIn(t, laptop, "ada@example.com", strongPassword, true)
	shots.take(laptop, "06-home")

	// A second browser (its own cookie jar) logs in as the same user.
	phone := browsertest.NewTab(t, browser)
	bstep(t, phone, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	bstep(t, phone, "open the login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("login")))
	shots.take(phone, "07-login-phone")
	loginIn(t, phone, "ada", strongPassword, true)

	// The sessions page lists both, this browser's marked.
	bstep(t, laptop, "open sessions", chromedp.Navigate(base+"/sessions"), chromedp.WaitVisible(chromedp.ID("sessions")))
	if n := countNodes(t, laptop, "#sessions li"); n != 2 {
		t.Fatalf("sessions listed: %d, want 2", n)
	}
	if n := countNodes(t, laptop, "#sessions li.current"); n != 1 {
		t.Fatalf("sessions marked current: %d, want 1", n)
	}
	shots.take(laptop, "08-sessions")
	bstep(t, laptop, "revoke the other session",
		chromedp.Click(chromedp.CSS(`#sessions li:not(.current) button`)),
		chromedp.WaitVisible(chromedp.ID("notice")))
	if n := countNodes(t, laptop, "#sessions li"); n != 1 {
		t.Errorf("sessions after revoking the other: %d, want 1", n)
	}
	shots.take(laptop, "09-sessions-revoked")

	// The phone's next page load goes to the login page.
	bstep(t, phone, "reload the phone's overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("login")))
	if loc := brun(t, phone, "read the location", chromedp.Location()); !strings.Contains(loc, pagesPath+"/login") {
		t.Errorf("the revoked browser is at %s, want the login page", loc)
	}
	if got := brun(t, phone, "read the error", chromedp.Text(chromedp.ID("error"))); !strings.Contains(got, "session has ended") {
		t.Errorf("the revoked browser is told %q", got)
	}
	shots.take(phone, "10-phone-logged-out")

	// Change password: a wrong current one, then the right one.
	const next = "a brand new passphrase for ada"
	bstep(t, laptop, "open change password", chromedp.Navigate(base+"/password"), chromedp.WaitVisible(chromedp.ID("change-password")))
	shots.take(laptop, "11-password")
	bstep(t, laptop, "change password with a wrong current one",
		chromedp.SendKeys(chromedp.ID("current_password"), "not my password at all"),
		chromedp.SendKeys(chromedp.ID("new_password"), next),
		chromedp.Click(chromedp.CSS(`#change-password button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("error")))
	shots.take(laptop, "12-password-error")
	bstep(t, laptop, "change password",
		chromedp.SendKeys(chromedp.ID("current_password"), strongPassword),
		chromedp.SendKeys(chromedp.ID("new_password"), next),
		chromedp.Click(chromedp.CSS(`#change-password button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("account")))
	if got := brun(t, laptop, "read the notice", chromedp.Text(chromedp.ID("notice"))); !strings.Contains(got, "password has been changed") {
		t.Errorf("after the change: notice %q", got)
	}
	shots.take(laptop, "13-password-changed")

	// The other pages, for their screenshots, and dark mode.
	for _, pg := range []struct{ path, id, name string }{
		{"/email", "change-email", "14-email"},
		{"/delete", "delete", "15-delete"},
	} {
		bstep(t, laptop, "open "+pg.path, chromedp.Navigate(base+pg.path), chromedp.WaitVisible(chromedp.ID(pg.id)))
		shots.take(laptop, pg.name)
	}
	bstep(t, laptop, "dark mode", darkMode(true))
	bstep(t, laptop, "open sessions", chromedp.Navigate(base+"/sessions"), chromedp.WaitVisible(chromedp.ID("sessions")))
	shots.take(laptop, "16-sessions-dark")
	bstep(t, laptop, "light mode", darkMode(false))

	// Log out: the login page, and the overview is closed.
	bstep(t, laptop, "log out", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("logout")),
		chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login")))
	if got := brun(t, laptop, "read the notice", chromedp.Text(chromedp.ID("notice"))); !strings.Contains(got, "logged out") {
		t.Errorf("after logout: notice %q", got)
	}
	shots.take(laptop, "17-logged-out")
	bstep(t, laptop, "open a page that is not there", chromedp.Navigate(base+"/nope"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := brun(t, laptop, "read the title", chromedp.Text(chromedp.CSS("h1"))); got != "Page not found" {
		t.Errorf("unknown page: %q", got)
	}
	shots.take(laptop, "17b-not-found")
	bstep(t, laptop, "open the overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("login")))

	// The forgotten-password pages, anonymous, on the phone in dark mode.
	bstep(t, phone, "dark mode", darkMode(true))
	bstep(t, phone, "open forgot", chromedp.Navigate(base+"/forgot"), chromedp.WaitVisible(chromedp.ID("forgot")))
	shots.take(phone, "18-forgot-phone-dark")
	bstep(t, phone, "ask for a reset",
		chromedp.SendKeys(chromedp.ID("email"), "ada@example.com"),
		chromedp.Click(chromedp.CSS(`#forgot button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("check-email")))
	reset := account.PageLink(base, h.mail.Last(t))
	bstep(t, phone, "open the reset link", chromedp.Navigate(reset), chromedp.WaitVisible(chromedp.ID("reset")))
	shots.take(phone, "19-reset-phone-dark")
	const third = "the third passphrase of ada"
	bstep(t, phone, "set a new password",
		chromedp.SendKeys(chromedp.ID("password"), third),
		chromedp.Click(chromedp.CSS(`#reset button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("notice")))
	shots.take(phone, "20-reset-done-phone-dark")
	loginIn(t, phone, "ada", third, true)
	bstep(t, phone, "open sessions", chromedp.Navigate(base+"/sessions"), chromedp.WaitVisible(chromedp.ID("sessions")))
	shots.take(phone, "21-sessions-phone-dark")
}

// loginIn fills the login form of the page open in tab and submits it;
// ok says whether it should land on the overview or on the login page.
func loginIn(t *testing.T, tab context.Context, login, pw string, ok bool) {
	t.Helper()
	want := chromedp.ID("error")
	if ok {
		want = chromedp.ID("account")
	}
	bstep(t, tab, "log in as "+login,
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login-id"), login),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(want))
}

func countNodes(t *testing.T, tab context.Context, css string) int {
	t.Helper()
	return brun(t, tab, "count "+css, chromedp.Evaluate[int](`document.querySelectorAll(`+jsQuote(css)+`).length`))
}

func jsQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// darkMode makes the tab prefer a dark colour scheme, or stops.
func darkMode(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		p := emulation.SetEmulatedMediaParams{}
		if on {
			p.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
		}
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, p)
		return err
	})
}

// shots saves screenshots in $GATEHOUSE_SCREENSHOTS, or in the test's
// temporary directory.
type shots struct {
	t   *testing.T
	dir string
}

func newShots(t *testing.T) *shots {
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &shots{t: t, dir: dir}
}

func (s *shots) take(tab context.Context, name string) {
	s.t.Helper()
	png := brun(s.t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(s.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("screenshot: %s", path)
}

// bstep runs actions in tab within browserStepTimeout and fails the test
// on error.
func bstep(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	brun(t, tab, what, chromedp.Steps(actions...))
}

// brun runs one action in tab within browserStepTimeout and returns its
// value.
func brun[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// TestPagesBrowserMFA: in Chromium, a signed-in user opens the security
// page, starts a TOTP enrolment and sees its QR code, which the test
// reads back from the page (the image's data: URL, decoded as a PNG and
// sampled module by module) and finds to be the QR code of the page's
// otpauth URI; the user types a code of that key, sees the recovery
// codes once, logs out, and logs back in through the second-step page (a
// wrong code first); then, on a phone in dark mode, with a recovery code.
func TestPagesBrowserMFA(t *testing.T) {
	browser := browsertest.New(t)
	h := newMFAHarness(t, teststores.All()[0].Open, productionCookies(t))
	srv := pagesServer(t, h, true)
	base := srv.URL + pagesPath
	shots := newShots(t)
	h.signup(t, "grace@example.com", "grace")

	tab := browsertest.NewTab(t, browser)
	bstep(t, tab, "desktop viewport", chromedp.EmulateViewport(1100, 900))
	bstep(t, tab, "open the login page", chromedp.Navigate(base+"/login"))
	loginIn(t, tab, "grace", strongPassword, true)
	bstep(t, tab, "open the security page", chromedp.Click(chromedp.ID("security-link")), chromedp.WaitVisible(chromedp.ID("enroll-totp")))
	shots.take(tab, "mfa-01-security-off")
	bstep(t, tab, "start the enrolment",
		chromedp.SendKeys(chromedp.ID("enroll-password"), strongPassword),
		chromedp.Click(chromedp.CSS(`#enroll-totp button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("qr")))
	if !brun(t, tab, "check the QR image loaded", chromedp.Evaluate[bool](
		`(() => { const i = document.getElementById("qr"); return i.complete && i.naturalWidth > 0 })()`)) {
		t.Fatal("the QR code image did not load (the page's Content-Security-Policy?)")
	}
	shots.take(tab, "mfa-02-enrol-qr")

	// The QR code the browser shows is the page's otpauth URI.
	src := brun(t, tab, "read the QR image", chromedp.Evaluate[string](`document.getElementById("qr").src`))
	uri := brun(t, tab, "read the otpauth link", chromedp.Evaluate[string](`document.getElementById("otpauth").getAttribute("href")`))
	secret := brun(t, tab, "read the key", chromedp.Text(chromedp.ID("totp-secret")))
	key, err := mfa.ParseKeyURI(uri)
	if err != nil {
		t.Fatalf("the page's otpauth link %q: %v", uri, err)
	}
	if key.Issuer != "Gatehouse Test" || key.Account != "grace@example.com" ||
		!strings.Contains(uri, "secret="+strings.ReplaceAll(secret, " ", "")) {
		t.Fatalf("the key in text %q, the link %q", secret, uri)
	}
	checkQR(t, src, uri)

	bstep(t, tab, "confirm with a code of the key",
		chromedp.SendKeys(chromedp.ID("code"), key.Code(h.clock.Now())),
		chromedp.Click(chromedp.CSS(`#confirm-totp button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	if n := countNodes(t, tab, "#recovery-codes li"); n != mfa.RecoveryCodeCount {
		t.Fatalf("recovery codes shown: %d, want %d", n, mfa.RecoveryCodeCount)
	}
	first := brun(t, tab, "read a recovery code", chromedp.Text(chromedp.CSS("#recovery-codes li:first-child code")))
	shots.take(tab, "mfa-03-recovery-codes")
	bstep(t, tab, "saved them", chromedp.Click(chromedp.ID("saved")), chromedp.WaitVisible(chromedp.ID("regenerate")))
	if got := brun(t, tab, "read the status", chromedp.Text(chromedp.ID("totp-status"))); got != "On" {
		t.Errorf("the security page says the app is %q", got)
	}
	shots.take(tab, "mfa-04-security-on")

	// Log out, and in again: the password, then the second step.
	bstep(t, tab, "log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login")))
	h.clock.Advance(30 * time.Second)
	secondStepIn(t, tab, "grace")
	shots.take(tab, "mfa-05-second-step")
	bstep(t, tab, "a wrong code",
		chromedp.SendKeys(chromedp.ID("code"), wrongCode(h, key)),
		chromedp.Click(chromedp.CSS(`#second-step button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("error")))
	if got := brun(t, tab, "read the error", chromedp.Text(chromedp.ID("error"))); !strings.Contains(got, "not right") {
		t.Errorf("a wrong code: error %q", got)
	}
	shots.take(tab, "mfa-06-second-step-error")
	bstep(t, tab, "the right code",
		chromedp.SendKeys(chromedp.ID("code"), key.Code(h.clock.Now())),
		chromedp.Click(chromedp.CSS(`#second-step button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("account")))
	shots.take(tab, "mfa-07-home-after-second-step")

	// A phone in dark mode, with a recovery code.
	phone := browsertest.NewTab(t, browser)
	bstep(t, phone, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	bstep(t, phone, "dark mode", darkMode(true))
	bstep(t, phone, "open the login page", chromedp.Navigate(base+"/login"))
	secondStepIn(t, phone, "grace@example.com")
	shots.take(phone, "mfa-08-second-step-phone-dark")
	bstep(t, phone, "use a recovery code", chromedp.Click(chromedp.ID("use-recovery")), chromedp.WaitVisible(chromedp.ID("use-app")))
	bstep(t, phone, "type the recovery code",
		chromedp.SendKeys(chromedp.ID("code"), first),
		chromedp.Click(chromedp.CSS(`#second-step button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("account")))
	bstep(t, phone, "open the security page", chromedp.Navigate(base+"/security"), chromedp.WaitVisible(chromedp.ID("factors")))
	if got := brun(t, phone, "read the count", chromedp.Text(chromedp.ID("recovery-count"))); got != "9 recovery codes left" {
		t.Errorf("after using one: %q", got)
	}
	shots.take(phone, "mfa-09-security-phone-dark")
}

// secondStepIn fills the login form with an enrolled account's password
// and waits for the second-step page.
func secondStepIn(t *testing.T, tab context.Context, login string) {
	t.Helper()
	bstep(t, tab, "log in as "+login+", first step",
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login-id"), login),
		chromedp.SendKeys(chromedp.ID("password"), strongPassword),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("second-step")))
}

// checkQR decodes the data: URL of a PNG QR code and compares it module
// by module with go-qr's encoding of want (level M, as mfa draws it):
// the image must be the code of want at a whole number of pixels a
// module, with a light quiet zone of at least 4 modules.
func checkQR(t *testing.T, dataURL, want string) {
	t.Helper()
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(dataURL, prefix) {
		t.Fatalf("the QR image's src is %.40q, want a PNG data: URL", dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(dataURL, prefix))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.EncodeText(want, qr.Medium)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	n := code.Size()
	if b.Dx() != b.Dy() {
		t.Fatalf("the QR image is %dx%d, not square", b.Dx(), b.Dy())
	}
	// The scale and border that fit: whole pixels a module, border ≥ 4.
	scale, border := 0, 0
	for s := b.Dx() / n; s >= 1; s-- {
		if rest := b.Dx() - s*n; rest >= 8*s && rest%(2*s) == 0 {
			scale, border = s, rest/(2*s)
			break
		}
	}
	if scale == 0 {
		t.Fatalf("a %dpx image cannot hold %d modules and a quiet zone of 4", b.Dx(), n)
	}
	dark := func(mx, my int) bool {
		px := b.Min.X + (mx+border)*scale + scale/2
		py := b.Min.Y + (my+border)*scale + scale/2
		r, g, bl, _ := img.At(px, py).RGBA()
		return (r+g+bl)/3 < 0x8000
	}
	bad := 0
	for y := -border; y < n+border; y++ {
		for x := -border; x < n+border; x++ {
			isDark := x >= 0 && y >= 0 && x < n && y < n && code.Module(x, y)
			if dark(x, y) != isDark {
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("the QR image differs from the code of %q in %d of %d modules", want, bad, (n+2*border)*(n+2*border))
	}
	t.Logf("the QR image is the code of %q: %d modules, %d pixels a module, quiet zone %d", want, n, scale, border)
}

// TestPagesBrowserPasskeys: in Chromium with its virtual authenticator,
// passkey.js does the ceremonies. A signed-in user adds a passkey on the
// security page (password and name), logs out, logs in with the passkey
// alone from the login page's button (assurance 2), logs out, and logs in
// with the password, whose second step the page's "Use a passkey" button
// completes. WebAuthn needs a secure context Chromium trusts, so the
// pages are served on http://localhost, not on httptest's TLS server;
// localhost is a secure context, where the Secure __Host- cookies stay.
func TestPagesBrowserPasskeys(t *testing.T) {
	browser := browsertest.New(t)
	ln, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	h := newPasskeyHarnessAt(t, teststores.All()[0].Open, origin, productionCookies(t))
	h.clock.Advance(time.Since(h.clock.Now())) // cookies expire by the real clock
	mux := http.NewServeMux()
	mux.Handle("/account/", http.StripPrefix("/account", h.acct.API()))
	mux.Handle(pagesPath+"/", http.StripPrefix(pagesPath, h.acct.Pages()))
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	base := origin + pagesPath
	shots := newShots(t)
	h.signup(t, "lin@example.com", "lin")

	tab := browsertest.NewTab(t, browser)
	authenticator := browsertest.Passkeys(t, tab)
	bstep(t, tab, "desktop viewport", chromedp.EmulateViewport(1100, 900))
	bstep(t, tab, "open the login page", chromedp.Navigate(base+"/login"))
	loginIn(t, tab, "lin", strongPassword, true)

	// Add a passkey: the form shows once passkey.js runs.
	bstep(t, tab, "open the security page", chromedp.Click(chromedp.ID("security-link")), chromedp.WaitVisible(chromedp.ID("add-passkey")))
	bstep(t, tab, "add a passkey",
		chromedp.SendKeys(chromedp.ID("passkey-nickname"), "Work laptop"),
		chromedp.SendKeys(chromedp.ID("passkey-password"), strongPassword),
		chromedp.Click(chromedp.ID("add-passkey-button")),
		chromedp.WaitVisible(chromedp.ID("notice")))
	if got := brun(t, tab, "read the notice", chromedp.Text(chromedp.ID("notice"))); !strings.Contains(got, "passkey has been added") {
		t.Fatalf("after adding: notice %q", got)
	}
	if n := countNodes(t, tab, "#passkeys li.passkey"); n != 1 {
		t.Fatalf("passkeys listed: %d, want 1", n)
	}
	if got := brun(t, tab, "read the name", chromedp.Text(chromedp.CSS("#passkeys li.passkey .item-title"))); !strings.Contains(got, "Work laptop") {
		t.Errorf("the passkey is listed as %q", got)
	}
	creds := browsertest.Credentials(t, tab, authenticator)
	if len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %+v", creds)
	}
	shots.take(tab, "pk-01-security-passkey")
	bstep(t, tab, "open rename or remove", chromedp.Click(chromedp.CSS("#passkeys details summary")),
		chromedp.WaitVisible(chromedp.CSS("#passkeys details form")))
	shots.take(tab, "pk-01b-security-manage")

	// Log out; log in with the passkey alone.
	bstep(t, tab, "log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("passkey-login")))
	shots.take(tab, "pk-02-login-passkey-button")
	bstep(t, tab, "log in with the passkey", chromedp.Click(chromedp.ID("passkey-login-button")), chromedp.WaitVisible(chromedp.ID("account")))
	if a := browserAssurance(t, tab); a != 2 {
		t.Fatalf("passwordless session at assurance %v, want 2", a)
	}

	// Log out; the password now asks for the passkey as second step.
	bstep(t, tab, "log out again", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login")))
	bstep(t, tab, "log in with the password",
		chromedp.SendKeys(chromedp.ID("login-id"), "lin"),
		chromedp.SendKeys(chromedp.ID("password"), strongPassword),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("passkey-second")))
	if n := countNodes(t, tab, "#second-step"); n != 0 {
		t.Errorf("the second-step page asks for an app code the account does not have")
	}
	shots.take(tab, "pk-03-second-step")
	bstep(t, tab, "use the passkey", chromedp.Click(chromedp.ID("passkey-second-button")), chromedp.WaitVisible(chromedp.ID("account")))
	if a := browserAssurance(t, tab); a != 2 {
		t.Fatalf("second step by passkey at assurance %v, want 2", a)
	}
	shots.take(tab, "pk-04-home")
}

// browserAssurance is the assurance of the tab's session, asked of the
// API by the page (with its cookie).
func browserAssurance(t *testing.T, tab context.Context) float64 {
	t.Helper()
	return brun(t, tab, "read the session's assurance", chromedp.Evaluate[float64](
		`fetch("/account/session").then(r => r.json()).then(j => j.assurance)`, chromedp.EvalAwaitPromise))
}
