package account_test

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/png"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
)

// The second-step page and the security page, with a Go client over TLS
// (the pending cookie is a __Host- one, Secure).

var (
	qrSrc       = regexp.MustCompile(`<img id="qr" src="data:image/png;base64,([^"]+)"`)
	otpauthHref = regexp.MustCompile(`<a href="(otpauth://[^"]+)" id="otpauth">`)
	codeItem    = regexp.MustCompile(`<li><code>([0-9A-Z-]+)</code></li>`)
)

// enrolPage enrols ada's TOTP through the security page and returns the
// key and the recovery codes the page showed.
func enrolPage(t *testing.T, h *harness, c *pageClient) (mfa.TOTPKey, []string) {
	t.Helper()
	p := c.get("/security")
	if p.status != 200 || !strings.Contains(p.body, `id="enroll-totp"`) {
		t.Fatalf("GET /security: %d %s", p.status, p.body)
	}
	checkForm(t, p.body, "enroll-totp")
	if p = c.post("/security/totp", url.Values{}); p.status != 403 || !strings.Contains(p.body, "Please enter your password.") {
		t.Fatalf("enrol without the password: %d", p.status)
	}
	if p = c.post("/security/totp", url.Values{"password": {"not the password at all"}}); p.status != 401 ||
		!strings.Contains(p.body, "That password is not right.") {
		t.Fatalf("enrol with a wrong password: %d", p.status)
	}
	p = c.post("/security/totp", url.Values{"password": {strongPassword}})
	if p.status != 200 {
		t.Fatalf("enrol: %d %s", p.status, p.body)
	}
	checkForm(t, p.body, "confirm-totp")
	m := qrSrc.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no QR code image in the enrolment page: %s", p.body)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Fatalf("the QR code is no PNG: %v", err)
	}
	var uri string
	for _, m := range otpauthHref.FindAllStringSubmatch(p.body, -1) {
		if m[1] != "" {
			uri = html.UnescapeString(m[1])
		}
	}
	key, err := mfa.ParseKeyURI(uri)
	if err != nil {
		t.Fatalf("the page's otpauth link %q: %v", uri, err)
	}
	secret := regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`).FindStringSubmatch(p.body)
	if secret == nil || !strings.Contains(uri, "secret="+strings.ReplaceAll(secret[1], " ", "")) {
		t.Fatalf("the key in text %q is not the link's %q", secret, uri)
	}
	// A wrong code: the page says so and asks again.
	n := key.Code(h.clock.Now())
	wrong := string(rune('0'+(n[0]-'0'+5)%10)) + n[1:]
	if p = c.post("/security/totp/confirm", url.Values{"code": {wrong}}); p.status != 401 ||
		!strings.Contains(p.body, "That code is not right.") || !strings.Contains(p.body, `id="confirm-totp"`) {
		t.Fatalf("a wrong confirming code: %d %s", p.status, p.body)
	}
	p = c.post("/security/totp/confirm", url.Values{"code": {n[:3] + " " + n[3:]}})
	if p.status != 200 || !strings.Contains(p.body, `id="recovery-codes"`) || !strings.Contains(p.body, "They are shown only now.") {
		t.Fatalf("confirm: %d %s", p.status, p.body)
	}
	var codes []string
	for _, m := range codeItem.FindAllStringSubmatch(p.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("the page shows %d recovery codes, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	h.clock.Advance(30 * time.Second)
	return key, codes
}

// pageFirstStep posts the login form of an enrolled account and follows
// it to the second-step page.
func pageFirstStep(t *testing.T, c *pageClient, login string) {
	t.Helper()
	p := c.post("/login", url.Values{"login": {login}, "password": {strongPassword}})
	if p.status != 303 || p.location != pagesPath+"/login?error=second_factor_required" {
		t.Fatalf("POST /login: %d to %q", p.status, p.location)
	}
	if p = c.get("/login?error=second_factor_required"); p.status != 303 || p.location != pagesPath+"/second" {
		t.Fatalf("the login page after the password: %d to %q, want the second step", p.status, p.location)
	}
	if p = c.get("/second"); p.status != 200 || !strings.Contains(p.body, `id="second-step"`) {
		t.Fatalf("GET /second: %d %s", p.status, p.body)
	}
	checkForm(t, p.body, "second-step")
	if p = c.get("/"); p.status != 303 || p.location != pagesPath+"/login" {
		t.Fatalf("the overview between the steps: %d to %q: signed in before the second factor", p.status, p.location)
	}
}

// TestPagesSecurityAndSecondStep: the security page enrols TOTP (QR code,
// key, confirm form, the recovery codes once), a form login then goes
// through the second-step page (wrong, replayed and right codes, a
// recovery code), new codes and removal ask for the password, and the
// forms refuse a cross-site post.
func TestPagesSecurityAndSecondStep(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open)
		srv := pagesServer(t, h, true)
		h.signup(t, "ada@example.com", "ada")
		ada := newPageClient(t, srv)
		ada.login("ada@example.com", strongPassword)
		if p := ada.get("/"); !strings.Contains(p.body, `href="`+pagesPath+`/security"`) {
			t.Fatal("the overview does not link to the security page")
		}
		key, codes := enrolPage(t, h, ada)
		if p := ada.get("/security"); !strings.Contains(p.body, `id="regenerate"`) || !strings.Contains(p.body, "10 recovery codes left") ||
			strings.Contains(p.body, `id="recovery-codes"`) {
			t.Fatalf("the security page after enrolling: %s", p.body)
		}

		// A cross-site post changes nothing.
		if p := ada.do("POST", "/security/totp/remove", url.Values{"password": {strongPassword}}, "Sec-Fetch-Site", "cross-site"); p.status != 403 {
			t.Fatalf("cross-site remove: %d", p.status)
		}
		b := newPageClient(t, srv)
		if p := b.do("POST", "/second", url.Values{"kind": {"totp"}, "code": {"123456"}}, "Sec-Fetch-Site", "cross-site"); p.status != 403 {
			t.Fatalf("cross-site second step: %d", p.status)
		}

		// The second step, in another browser.
		if p := b.get("/second"); p.status != 303 || p.location != pagesPath+"/login" {
			t.Fatalf("/second without a login under way: %d to %q", p.status, p.location)
		}
		pageFirstStep(t, b, "ada")
		p := b.post("/second", url.Values{"kind": {"totp"}, "code": {"000000"}})
		if p.status != 303 || p.location != pagesPath+"/second?error=invalid_code" {
			t.Fatalf("a wrong code: %d to %q", p.status, p.location)
		}
		if p = b.get("/second?error=invalid_code"); !strings.Contains(p.body, "That code is not right.") || !strings.Contains(p.body, `id="second-step"`) {
			t.Fatalf("the wrong code's page: %s", p.body)
		}
		code := key.Code(h.clock.Now())
		if p = b.post("/second", url.Values{"kind": {"totp"}, "code": {code}}); p.status != 303 || p.location != pagesPath+"/second" {
			t.Fatalf("the right code: %d to %q", p.status, p.location)
		}
		if p = b.get("/second"); p.status != 303 || p.location != pagesPath+"/" {
			t.Fatalf("/second once signed in: %d to %q", p.status, p.location)
		}
		if p = b.get("/"); p.status != 200 || !strings.Contains(p.body, "ada@example.com") {
			t.Fatalf("the overview after the second step: %d", p.status)
		}

		// The same code again, in a third browser: refused.
		c := newPageClient(t, srv)
		pageFirstStep(t, c, "ada")
		if p = c.post("/second", url.Values{"kind": {"totp"}, "code": {code}}); p.location != pagesPath+"/second?error=code_reused" {
			t.Fatalf("a replayed code: %d to %q", p.status, p.location)
		}
		if p = c.get("/second?error=code_reused"); !strings.Contains(p.body, "Wait for your app to show the next one") {
			t.Fatalf("the replayed code's page: %s", p.body)
		}
		// A recovery code instead: its form, its error, then in.
		if p = c.get("/second?use=recovery"); !strings.Contains(p.body, `name="kind" value="recovery"`) {
			t.Fatalf("the recovery form: %s", p.body)
		}
		if p = c.post("/second?use=recovery", url.Values{"kind": {"recovery"}, "code": {"AAAA-AAAA-AAAA-AAAA"}}); p.location !=
			pagesPath+"/second?error=invalid_code&use=recovery" {
			t.Fatalf("a wrong recovery code: %d to %q", p.status, p.location)
		}
		if p = c.post("/second?use=recovery", url.Values{"kind": {"recovery"}, "code": {strings.ToLower(codes[0])}}); p.location != pagesPath+"/second" {
			t.Fatalf("a recovery code: %d to %q", p.status, p.location)
		}
		if p = c.get("/"); p.status != 200 {
			t.Fatalf("the overview after a recovery code: %d", p.status)
		}

		// A pending token that expired sends the browser to log in again.
		d := newPageClient(t, srv)
		pageFirstStep(t, d, "ada")
		h.clock.Advance(6 * time.Minute)
		if p = d.post("/second", url.Values{"kind": {"totp"}, "code": {key.Code(h.clock.Now())}}); p.location != pagesPath+"/second?error=invalid_token" {
			t.Fatalf("an expired pending token: %d to %q", p.status, p.location)
		}
		if p = d.get("/second?error=invalid_token"); p.status != 303 || p.location != pagesPath+"/login?error=invalid_token" {
			t.Fatalf("the expired second step: %d to %q", p.status, p.location)
		}

		// New recovery codes, then removal, each after the password and,
		// as ada's session is from before the enrolment (level 1), a
		// code: the page asks for one.
		if p = ada.get("/security"); !strings.Contains(p.body, `id="regen-code"`) || !strings.Contains(p.body, `id="remove-code"`) {
			t.Fatalf("a level-1 session's security page asks for no code: %s", p.body)
		}
		if p = ada.post("/security/recovery-codes", url.Values{"password": {"wrong password here"}}); p.status != 401 {
			t.Fatalf("new codes with a wrong password: %d", p.status)
		}
		if p = ada.post("/security/recovery-codes", url.Values{"password": {strongPassword}}); p.status != 401 {
			t.Fatalf("new codes without a code from a level-1 session: %d", p.status)
		}
		p = ada.post("/security/recovery-codes", url.Values{"password": {strongPassword}, "code": {key.Code(h.clock.Now())}})
		if p.status != 200 || len(codeItem.FindAllString(p.body, -1)) != mfa.RecoveryCodeCount || strings.Contains(p.body, codes[1]) {
			t.Fatalf("new codes: %d %s", p.status, p.body)
		}
		if p = ada.post("/security/totp/remove", url.Values{}); p.status != 403 {
			t.Fatalf("remove without the password: %d", p.status)
		}
		h.clock.Advance(30 * time.Second)
		if p = ada.post("/security/totp/remove", url.Values{"password": {strongPassword}, "code": {key.Code(h.clock.Now())}}); p.status != 303 ||
			p.location != pagesPath+"/security?done=totp_removed" {
			t.Fatalf("remove: %d to %q", p.status, p.location)
		}
		if p = ada.get("/security?done=totp_removed"); !strings.Contains(p.body, "Your authenticator app has been removed") ||
			!strings.Contains(p.body, `id="enroll-totp"`) {
			t.Fatalf("after removing: %s", p.body)
		}
		newPageClient(t, srv).login("ada", strongPassword)
	})
}

// TestPagesSecondStepRemembered: a form login that asked to be kept
// signed in (Config.RememberMe) starts its remember-me chain only at the
// second step: the password alone leaves no remember-me cookie, the
// second step sets it.
func TestPagesSecondStepRemembered(t *testing.T) {
	h := newMFAHarness(t, teststores.All()[0].Open, func(c *account.Config) { c.RememberMe = true })
	srv := pagesServer(t, h, true)
	h.signup(t, "ada@example.com", "ada")
	ada := newPageClient(t, srv)
	ada.login("ada", strongPassword)
	key, _ := enrolPage(t, h, ada)

	b := newPageClient(t, srv)
	remembered := func() bool {
		u, _ := url.Parse(srv.URL)
		for _, c := range b.http.Jar.Cookies(u) {
			if c.Name == auth.RememberCookie {
				return true
			}
		}
		return false
	}
	p := b.post("/login", url.Values{"login": {"ada"}, "password": {strongPassword}, "remember": {"on"}})
	if p.location != pagesPath+"/login?error=second_factor_required" || remembered() {
		t.Fatalf("first step: %d to %q, remember-me cookie %t", p.status, p.location, remembered())
	}
	if p = b.post("/second", url.Values{"kind": {"totp"}, "code": {key.Code(h.clock.Now())}}); p.location != pagesPath+"/second" {
		t.Fatalf("second step: %d to %q", p.status, p.location)
	}
	if !remembered() {
		t.Fatal("the second step of a remembered login set no remember-me cookie")
	}
	if p = b.get("/"); p.status != 200 {
		t.Fatalf("the overview: %d", p.status)
	}
}

// TestPagesTrustThisDevice: the second-step page's "don't ask for a code
// on this device" box makes the browser's next password login skip the
// second step (auth.TrustCookie, rotated on every use), while another
// browser is still asked; on memory, Redis and Cluster.
func TestPagesTrustThisDevice(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open)
		srv := pagesServer(t, h, true)
		h.signup(t, "ada@example.com", "ada")
		ada := newPageClient(t, srv)
		ada.login("ada", strongPassword)
		key, _ := enrolPage(t, h, ada)

		b := newPageClient(t, srv)
		pageFirstStep(t, b, "ada")
		if p := b.get("/second"); !strings.Contains(p.body, `name="trust_device"`) {
			t.Fatalf("the second-step page offers no trust box: %s", p.body)
		}
		p := b.post("/second", url.Values{"kind": {"totp"}, "code": {key.Code(h.clock.Now())}, "trust_device": {"on"}})
		if p.status != 303 || p.location != pagesPath+"/second" {
			t.Fatalf("second step with trust: %d to %q", p.status, p.location)
		}
		trust := cookieValue(b, srv.URL, auth.TrustCookie)
		if trust == "" {
			t.Fatal("no trust cookie after asking to be trusted")
		}
		h.clock.Advance(30 * time.Second)
		b.do("POST", "/logout", url.Values{})
		b.login("ada", strongPassword) // straight in: no second step
		if got := cookieValue(b, srv.URL, auth.TrustCookie); got == "" || got == trust {
			t.Fatalf("trust cookie after a trusted login: %q, was %q: want a new one", got, trust)
		}
		// Another browser is still asked for a code.
		pageFirstStep(t, newPageClient(t, srv), "ada")
	})
}

func cookieValue(c *pageClient, base, name string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
