package account

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/mfa"
)

// The second step of a login and the security page (Config.MFA).
//
// A form login whose password is right for an account with a second
// factor comes back to the login page with ?error=second_factor_required
// and the pending token in auth.PendingCookie (never in the URL); the
// login page sends it on to /second, whose form posts the code to auth's
// SecondStepHandler. That handler redirects back to /second: with
// ?error=<code> to try again (the pending token stays live within the
// factor's attempt limit), or without, signed in, when /second sends the
// browser on to the overview as the login page does.

// secondPage shows the code form of a login's second step.
func (p *pages) secondPage(w http.ResponseWriter, r *http.Request) {
	if p.second == nil {
		p.message(w, r, http.StatusNotFound, errNotFound)
		return
	}
	q := r.URL.Query()
	code := q.Get("error")
	pending := len(r.CookiesNamed(auth.PendingCookie)) > 0
	switch {
	case code == "invalid_token" || code == "missing_token":
		// The pending token expired, was used, or the cookie is gone:
		// only the password again starts a new one.
		auth.ClearPendingCookie(w)
		p.redirect(w, r, "/login", "error", "invalid_token")
		return
	case code == "" && !pending:
		// A second step that worked (its cookie cleared), or a visit
		// without a login under way.
		if _, err := p.a.cfg.Guard.AuthenticateOrRestore(w, r); err == nil {
			p.redirect(w, r, "/")
			return
		}
		p.redirect(w, r, "/login")
		return
	}
	d := PageData{Recovery: q.Get("use") == "recovery"}
	d.Factors = p.pendingFactors(r)
	if code != "" {
		d.ErrorCode = code
		d.Error = errorSentence("second", code, "code")
	}
	p.render(w, http.StatusOK, "second", d)
}

// pendingFactors is what factors the pending login's account has, so
// that the second-step page offers a passkey to an account with one (and
// no code form to one without an app). It is known only with passkeys:
// without them, or when the pending token is no good (the post will say
// so), it is the zero Factors and the page asks for a code as before.
// Reading the token's subject takes a unit of the client's limit.MFA
// rate, as the post does.
func (p *pages) pendingFactors(r *http.Request) Factors {
	if p.a.cfg.Passkeys == nil || p.a.cfg.MFA == nil {
		return Factors{}
	}
	c, err := r.Cookie(auth.PendingCookie)
	if err != nil {
		return Factors{}
	}
	client, err := p.a.client(r)
	if err != nil {
		return Factors{}
	}
	subject, err := p.a.cfg.Auth.PendingSubject(r.Context(), c.Value, client)
	if err != nil {
		return Factors{}
	}
	st, err := p.a.mfaStatus(r.Context(), subject)
	if err != nil {
		return Factors{}
	}
	return Factors(st)
}

// secondOptions is passkey.js's POST /second/passkey/options: the
// options of a second step by passkey for the login pending in the
// browser's PendingCookie (HttpOnly: the script cannot read it).
func (p *pages) secondOptions(w http.ResponseWriter, r *http.Request) {
	var pending string
	if c, err := r.Cookie(auth.PendingCookie); err == nil {
		pending = c.Value
	}
	var out json.RawMessage
	p.a.withClient(w, r, func(c netip.Prefix) error {
		var err error
		out, err = p.a.secondOptions(r.Context(), c, pending)
		return err
	}, http.StatusOK, &out)
}

// renamePasskey and removePasskey are the forms of the security page's
// list of passkeys; no script needed.
func (p *pages) renamePasskey(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(v url.Values, _ netip.Prefix) error {
		return p.a.renamePasskey(r.Context(), s, v.Get("id"), v.Get("nickname"))
	})
	if err != nil {
		p.securityAfter(w, r, s, err, nil)
		return
	}
	p.redirect(w, r, "/security", "done", "passkey_renamed")
}

func (p *pages) removePasskey(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		return p.a.removePasskey(r.Context(), c, info(r), s, v.Get("id"), v.Get("password"), v.Get("code"))
	})
	if err != nil {
		p.securityAfter(w, r, s, err, nil)
		return
	}
	p.redirect(w, r, "/security", "done", "passkey_removed")
}

// secondStep is the form's post: auth's SecondStepHandler. The recovery
// form posts to /second?use=recovery, and its error comes back to the
// recovery form.
func (p *pages) secondStep(w http.ResponseWriter, r *http.Request) {
	if p.second == nil {
		p.message(w, r, http.StatusNotFound, errNotFound)
		return
	}
	if r.URL.Query().Get("use") == "recovery" {
		w = recoveryRedirect{ResponseWriter: w, prefix: p.path + "/second?error="}
	}
	p.second.ServeHTTP(w, r)
}

// recoveryRedirect adds use=recovery to the handler's redirect to an
// error of the second step.
type recoveryRedirect struct {
	http.ResponseWriter
	prefix string
}

func (w recoveryRedirect) WriteHeader(status int) {
	if loc := w.Header().Get("Location"); strings.HasPrefix(loc, w.prefix) {
		w.Header().Set("Location", loc+"&use=recovery")
	}
	w.ResponseWriter.WriteHeader(status)
}

// securityData is the security page's data: the session's and the
// account's factors.
func (p *pages) securityData(r *http.Request, s session) (PageData, error) {
	d := p.sessionData(r, s, "security")
	var err error
	if p.a.cfg.MFA != nil {
		var st mfaStatus
		st, err = p.a.mfaStatus(r.Context(), s.user.Subject)
		d.Factors = Factors(st)
	}
	if err == nil && p.a.cfg.Passkeys != nil {
		d.PasskeyList, err = p.a.cfg.Passkeys.List(r.Context(), s.user.Subject)
		d.Factors.Passkeys = len(d.PasskeyList)
	}
	// A session that did not pass the account's factor gives a code of
	// it to add or remove one (proveFactor).
	d.NeedsCode = s.p.Assurance < auth.AssuranceMultiFactor && (d.Factors.TOTP || d.Factors.Passkeys > 0)
	// A passkey-only account without recovery codes has no code to give:
	// the page says to log in with the passkey instead.
	d.NeedsPasskeyLogin = d.NeedsCode && !d.Factors.TOTP && d.Factors.RecoveryCodes == 0
	d.NeedsCode = d.NeedsCode && !d.NeedsPasskeyLogin
	return d, err
}

// securityAfter renders the security page after a form: with err, or
// with what the form made (set by more).
func (p *pages) securityAfter(w http.ResponseWriter, r *http.Request, s session, err error, more func(*PageData)) {
	d, serr := p.securityData(r, s)
	if serr != nil {
		p.message(w, r, status(serr), serr)
		return
	}
	d.Notice, d.NoticeCode = "", ""
	if err != nil {
		d.setError("security", err)
		p.render(w, status(err), "security", d)
		return
	}
	if more != nil {
		more(&d)
	}
	p.render(w, http.StatusOK, "security", d)
}

func (p *pages) security(w http.ResponseWriter, r *http.Request, s session) {
	if p.a.cfg.MFA == nil && p.a.cfg.Passkeys == nil {
		p.message(w, r, http.StatusNotFound, errNotFound)
		return
	}
	d, err := p.securityData(r, s)
	if err != nil {
		p.message(w, r, status(err), err)
		return
	}
	p.render(w, http.StatusOK, "security", d)
}

// enrollTOTP starts an enrolment and shows it: the QR code, the secret
// and the confirm form, on the answer to this post only (no redirect: the
// secret must not reach a URL, and the page is not cached).
func (p *pages) enrollTOTP(w http.ResponseWriter, r *http.Request, s session) {
	var en mfa.Enrollment
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		var err error
		en, err = p.a.enrollTOTP(r.Context(), c, info(r), s, v.Get("password"), v.Get("code"))
		return err
	})
	p.securityAfter(w, r, s, err, func(d *PageData) {
		d.Factors.TOTPPending = true
		d.Enrollment = &Enrollment{Secret: groupsOf4(en.Secret), URI: template.URL(en.URI),
			QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG))}
	})
}

// groupsOf4 spaces a base32 secret in groups of four, to type it in;
// authenticator apps ignore the spaces.
func groupsOf4(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// confirmTOTP confirms the enrolment, and shows the recovery codes made
// for it once.
func (p *pages) confirmTOTP(w http.ResponseWriter, r *http.Request, s session) {
	var codes []string
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		var err error
		codes, err = p.a.confirmTOTP(r.Context(), c, s, v.Get("code"))
		return err
	})
	if err == nil && len(codes) == 0 {
		p.redirect(w, r, "/security", "done", "totp_enabled")
		return
	}
	p.securityAfter(w, r, s, err, func(d *PageData) {
		d.Notice, d.NoticeCode = notices["totp_enabled"], "totp_enabled"
		d.RecoveryCodes = codes
	})
}

func (p *pages) removeTOTP(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		return p.a.removeTOTP(r.Context(), c, info(r), s, v.Get("password"), v.Get("code"))
	})
	if err != nil {
		p.securityAfter(w, r, s, err, nil)
		return
	}
	p.redirect(w, r, "/security", "done", "totp_removed")
}

func (p *pages) regenerateCodes(w http.ResponseWriter, r *http.Request, s session) {
	var codes []string
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		var err error
		codes, err = p.a.regenerateRecoveryCodes(r.Context(), c, info(r), s, v.Get("password"), v.Get("code"))
		return err
	})
	p.securityAfter(w, r, s, err, func(d *PageData) {
		d.Notice, d.NoticeCode = notices["recovery_codes_made"], "recovery_codes_made"
		d.RecoveryCodes = codes
	})
}
