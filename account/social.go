package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/problem"
)

// Social login (Config.OIDC and Config.Identities). The rules, each
// because of a peer's mistake or an attack:
//
//   - An identity is found by (issuer, subject) only, never by an address
//     or a name the user may change.
//   - An identity linked nowhere whose verified address names an account
//     is NOT linked to it: link_required. Linking needs the account's
//     owner to prove it (log in, then link from the signed-in session);
//     else whoever controls the address at any provider the app trusts
//     (or a provider that verifies addresses loosely) takes the account.
//   - An unverified address is refused (email_unverified) before the user
//     table is asked about it: a stranger's provider account with any
//     address they type must not tell whether that address has an account.
//   - Unlinking never removes the last way in (last_login_method), and
//     needs the password when the account has one.

// Errors of social login.
var (
	errLinkRequired = problem.New("account: identity not linked, and an account has its address", problem.Error{
		Status: http.StatusConflict, Code: "link_required",
		Message: "an account with this address exists: log in to it first, then link this provider from its settings"})
	errEmailUnverified = problem.New("account: the provider did not verify the address", problem.Error{
		Status: http.StatusForbidden, Code: "email_unverified",
		Message: "the login provider did not confirm your email address; confirm it there, or sign up with a password"})
	// ErrLastLoginMethod: unlinking would leave the account no way in (409
	// last_login_method); Identities.UnlinkIdentity answers it too.
	ErrLastLoginMethod = problem.New("account: unlinking would leave no way in", problem.Error{
		Status: http.StatusConflict, Code: "last_login_method",
		Message: "this is the account's only way to log in: set a password or link another provider first"})
)

// linkCookie carries the intent to link, from POST /identities/{provider}
// to the callback: the account and the session that asked, and when,
// signed with a key of Config.Tokens. The callback links only when the
// session it names is still one of the account's live sessions, so a
// cookie outliving a logout links nothing. It is HttpOnly, SameSite=Lax
// (the callback is a top-level navigation from the provider) and lives
// as long as a flow's state.
const linkCookie = "__Host-gatehouse-oidc-link"

// linkCookieTTL bounds a link flow: the provider's login form and back.
const linkCookieTTL = 10 * time.Minute

// needSocial answers 501 not_supported without Config.OIDC.
func (a *Account) needSocial() error {
	if a.cfg.OIDC == nil {
		return errors.Join(errNotHere, errors.New("Config.OIDC is not set"))
	}
	return nil
}

// apiOIDC is GET /login/oidc/{provider}: the callback, or a begin.
func (a *Account) apiOIDC(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("provider") == callbackName {
		a.apiOIDCCallback(w, r)
		return
	}
	a.apiOIDCBegin(w, r)
}

// callbackName is the callback's last path segment, never a provider's.
const callbackName = "callback"

// apiOIDCBegin redirects to the provider. The RP limits each Begin per
// client (oidc.Config.Limiter): build it with the account's Limiter.
func (a *Account) apiOIDCBegin(w http.ResponseWriter, r *http.Request) {
	if err := a.needSocial(); err != nil {
		problem.Write(w, err)
		return
	}
	rw := a.rememberIntent(a.spendLinkIntent(w, r), r, r.URL.Query().Get("remember"))
	if err := a.cfg.OIDC.Begin(rw, r, r.PathValue("provider"), r.URL.Query().Get("next")); err != nil {
		problem.Write(w, err)
	}
}

// rememberCookie carries a provider login's "keep me signed in" from its
// begin to its callback (Config.RememberMe): a flag, not a secret, for
// ten minutes. Being the browser's rather than the flow's, it is set or
// cleared by every begin, so that a login asks for what it asked.
const rememberCookie = "__Host-gatehouse-oidc-remember"

// rememberIntent wraps the response of a begin: with Config.RememberMe
// and remember "1" (or "on", "true"), the rememberCookie goes with the
// redirect; otherwise one the browser holds is cleared.
func (a *Account) rememberIntent(w http.ResponseWriter, r *http.Request, remember string) http.ResponseWriter {
	want := a.cfg.RememberMe && (remember == "1" || remember == "on" || remember == "true")
	if !want && len(r.CookiesNamed(rememberCookie)) == 0 {
		return w
	}
	c := &http.Cookie{Name: rememberCookie, Value: "1", Path: "/", MaxAge: 600, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if !want {
		c.Value, c.MaxAge = "", -1
	}
	return &deferCookie{ResponseWriter: w, set: func() { http.SetCookie(w, c) }}
}

// takeRemember reports whether the callback's flow asked to be
// remembered, and clears the flag.
func (a *Account) takeRemember(w http.ResponseWriter, r *http.Request) bool {
	cs := r.CookiesNamed(rememberCookie)
	if len(cs) == 0 {
		return false
	}
	clearFlowCookie(w, rememberCookie)
	return a.cfg.RememberMe && len(cs) == 1 && cs[0].Value == "1"
}

// spendLinkIntent wraps the response of a plain login's Begin: a link
// intent the browser holds (a link flow started and abandoned) is cleared
// with the redirect, so the plain login's callback logs in or signs up
// rather than linking whoever logs in at the provider to the account that
// asked to link.
func (a *Account) spendLinkIntent(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if len(r.CookiesNamed(linkCookie)) == 0 {
		return w
	}
	return &deferCookie{ResponseWriter: w, set: func() { clearFlowCookie(w, linkCookie) }}
}

// clearFlowCookie clears one of the cookies that carry a provider flow's
// intent (link, remember) from its begin to its callback, with the
// attributes they are set with.
func clearFlowCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// apiOIDCCallback finishes a flow: a login, a signup or a link. Every
// refusal is audited (oidc.failed, or account.social_failed with the
// code) and answered with its code: JSON here, a page (the login page with
// ?error=code) when the flow was started from the pages.
func (a *Account) apiOIDCCallback(w http.ResponseWriter, r *http.Request) {
	if err := a.needSocial(); err != nil {
		problem.Write(w, err)
		return
	}
	linkTo := a.linkIntent(r)
	if linkTo != "" || len(r.CookiesNamed(linkCookie)) > 0 {
		// Spent whatever comes: one intent, one flow.
		clearFlowCookie(w, linkCookie)
	}
	remember := a.takeRemember(w, r)
	id, next, err := a.cfg.OIDC.Finish(w, r)
	if err != nil {
		a.socialFail(w, r, err) // oidc audited it
		return
	}
	ctx := r.Context()
	lid := LinkedIdentity{Issuer: id.Issuer, Subject: id.Subject, Provider: id.Provider, Email: id.Email,
		Name: id.Name, Linked: a.cfg.Now().UTC()}
	subject, err := a.cfg.Identities.FindIdentity(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil && linkTo != "" && subject != linkTo:
		err = ErrIdentityLinked
	case err == nil && linkTo != "":
		// Linked to this account already: nothing to do.
		a.redirectAfter(w, r, next, "/identities?done=identity_linked")
		return
	case err == nil:
		a.socialLogin(w, r, subject, next, remember)
		return
	case !errors.Is(err, ErrNoIdentity):
	case linkTo != "":
		if err = a.cfg.Identities.LinkIdentity(ctx, linkTo, lid); err == nil {
			a.rec.Record(ctx, audit.IdentityLinked, slog.String(audit.KeySubject, linkTo),
				slog.String(audit.KeyProvider, id.Provider), slog.String(audit.KeyIssuer, id.Issuer))
			a.redirectAfter(w, r, next, "/identities?done=identity_linked")
			return
		}
	default:
		subject, err = a.socialSignup(ctx, id, lid)
		if err == nil {
			a.socialLogin(w, r, subject, next, remember)
			return
		}
	}
	a.rec.Record(ctx, audit.SocialFailed, slog.String(audit.KeyProvider, id.Provider),
		slog.String(audit.KeyReason, problem.Of(err).Code))
	a.socialFail(w, r, err)
}

// socialSignup creates an account for an identity linked nowhere, under
// the rules above.
func (a *Account) socialSignup(ctx context.Context, id oidc.Identity, lid LinkedIdentity) (string, error) {
	if id.Email == "" || !id.EmailVerified {
		return "", errEmailUnverified
	}
	email, err := validEmail("email", id.Email)
	if err != nil {
		return "", errEmailUnverified
	}
	switch _, err := a.users.FindUser(ctx, email); {
	case err == nil:
		return "", errLinkRequired
	case !errors.Is(err, auth.ErrUnknownUser):
		return "", err
	}
	if err := need(a.can.creator != nil && a.can.emails != nil, "account.Creator and account.EmailSetter"); err != nil {
		return "", err
	}
	// No password: the provider is the way in (an empty hash matches no
	// password). A password can be set later by a reset.
	subject, err := a.can.creator.CreateUser(ctx, NewUser{Email: email})
	if isTaken(err) {
		return "", errLinkRequired // lost a race for the address
	}
	if err != nil {
		return "", err
	}
	a.rec.Record(ctx, audit.AccountCreated, slog.String(audit.KeySubject, subject), slog.String(audit.KeyProvider, id.Provider))
	// The provider verified the address: confirmed, as a mailed link would.
	if err := a.can.emails.SetEmail(ctx, subject, email, true); err != nil {
		return "", err
	}
	if err := a.cfg.Identities.LinkIdentity(ctx, subject, lid); err != nil {
		// Another flow of the same identity linked it meanwhile: the new
		// account has no way in; remove it when we can.
		if a.can.deleter != nil {
			_ = a.can.deleter.DeleteUser(context.WithoutCancel(ctx), subject)
		}
		return "", err
	}
	a.rec.Record(ctx, audit.IdentityLinked, slog.String(audit.KeySubject, subject),
		slog.String(audit.KeyProvider, id.Provider), slog.String(audit.KeyIssuer, id.Issuer))
	return subject, nil
}

// socialLogin logs the account in (auth.LoginExternal) and redirects: to
// next with the session cookie, or, with a second factor, to the second-
// step page with auth.PendingCookie (no session until the code).
func (a *Account) socialLogin(w http.ResponseWriter, r *http.Request, subject, next string, remember bool) {
	ctx := r.Context()
	client, err := a.client(r)
	if err != nil {
		a.socialFail(w, r, err)
		return
	}
	project := a.cfg.Project(r)
	var s auth.Session
	var ds auth.DeviceSession
	if remember {
		// A browser's remember-me chain, as a password login that asked
		// to be kept signed in starts one.
		ds, err = a.cfg.Auth.LoginExternalRemembered(ctx, subject, project, client)
		s = ds.Session
	} else {
		s, err = a.cfg.Auth.LoginExternal(ctx, subject, project, client)
	}
	var pending *auth.SecondFactorError
	switch {
	case errors.As(err, &pending):
		a.cfg.Auth.SetPendingCookie(w, pending)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, a.cfg.PagesPath+"/second", http.StatusSeeOther)
		return
	case err != nil:
		a.socialFail(w, r, err) // LoginExternal audited it
		return
	}
	prev := a.cfg.Cookies.SessionToken(r, project)
	if err := a.cfg.Cookies.SetSession(w, r, project, s.Token, s.ExpiresAt); err != nil {
		a.socialFail(w, r, err)
		return
	}
	// As a password login (auth's keepLogin): the session this browser
	// held is replaced, so it ends (ASVS 5.0 7.2.4), and so does the
	// browser's remember-me chain, whose cookie would otherwise bring the
	// previous user back. Best effort: the new session stands.
	if prev != "" && prev != s.Token {
		_ = a.cfg.Auth.LogoutKeepDevice(ctx, prev)
	}
	if len(r.CookiesNamed(auth.RememberCookie)) > 0 {
		if device, token, ok := auth.RememberFromRequest(r); ok {
			_ = a.cfg.Auth.ForgetRemembered(ctx, device, token)
		}
		if !remember {
			auth.ClearRememberCookie(w)
		}
	}
	if remember {
		if err := a.cfg.Auth.SetRememberCookie(w, ds); err != nil {
			a.socialFail(w, r, err)
			return
		}
	}
	a.redirectAfter(w, r, next, "/")
}

// redirectAfter redirects to next (allowlisted by the RP's Begin), or to
// the pages' page.
func (a *Account) redirectAfter(w http.ResponseWriter, r *http.Request, next, page string) {
	if next == "" {
		next = a.cfg.PagesPath + page
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// socialFail answers a refused callback: when the browser asks for HTML
// (a user mid-login), the page it came from with the code (the
// linked-accounts page for a link, else the login page), else the problem.
// A provider down (5xx) is the pages' message page.
func (a *Account) socialFail(w http.ResponseWriter, r *http.Request, err error) {
	if a.pages != nil && strings.Contains(r.Header.Get("Accept"), "text/html") {
		pr := problem.Of(err)
		if pr.Status >= 500 {
			a.pages.message(w, r, pr.Status, err)
			return
		}
		page := "/login"
		if isLinkFlow(r) {
			page = "/identities"
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, a.cfg.PagesPath+page+"?"+url.Values{"error": {pr.Code}}.Encode(), http.StatusSeeOther)
		return
	}
	problem.Write(w, err)
}

// linkMAC signs a link intent.
func (a *Account) linkMAC(payload string) string {
	m := hmac.New(sha256.New, a.cfg.Tokens.DeriveKey("account oidc link"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setLinkIntent leaves the intent to link the signed-in account.
func (a *Account) setLinkIntent(w http.ResponseWriter, s session) {
	exp := strconv.FormatInt(a.cfg.Now().Add(linkCookieTTL).Unix(), 10)
	payload := base64.RawURLEncoding.EncodeToString([]byte(s.p.Subject)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(s.p.SessionID())) + "." + exp
	http.SetCookie(w, &http.Cookie{Name: linkCookie, Value: payload + "." + a.linkMAC(payload), Path: "/",
		MaxAge: int(linkCookieTTL.Seconds()), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// linkIntent returns the account a valid link cookie names, when the
// session that set it is still live; "" otherwise.
func (a *Account) linkIntent(r *http.Request) string {
	cs := r.CookiesNamed(linkCookie)
	if len(cs) != 1 || len(cs[0].Value) > 1024 {
		return "" // none, or two: one may be planted
	}
	parts := strings.Split(cs[0].Value, ".")
	if len(parts) != 4 {
		return ""
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(a.linkMAC(payload))) {
		return ""
	}
	sub, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sid, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	exp, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || a.cfg.Now().Unix() > exp {
		return ""
	}
	list, err := a.cfg.Auth.Sessions(r.Context(), string(sub), string(sid))
	if err != nil || !slices.ContainsFunc(list, func(x auth.SessionInfo) bool { return x.Current }) {
		return ""
	}
	return string(sub)
}

// IdentityItem is a linked identity as the API and the linked-accounts
// page list it; ID names it in DELETE /identities/{id} and the page's
// unlink form.
type IdentityItem struct {
	ID string `json:"id"`
	LinkedIdentity
	// Label is the provider's name as the pages show it ("Google").
	Label string `json:"-"`
}

// identityID names a linked identity in a URL: base64url of the issuer
// and the subject, which may hold any character.
func identityID(issuer, subject string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(issuer)) + "." + base64.RawURLEncoding.EncodeToString([]byte(subject))
}

func (a *Account) identities(ctx context.Context, subject string) ([]IdentityItem, error) {
	if err := a.needSocial(); err != nil {
		return nil, err
	}
	list, err := a.cfg.Identities.ListIdentities(ctx, subject)
	out := make([]IdentityItem, 0, len(list))
	for _, x := range list {
		out = append(out, IdentityItem{ID: identityID(x.Issuer, x.Subject), LinkedIdentity: x, Label: providerLabel(x.Provider)})
	}
	return out, err
}

func (a *Account) apiIdentities(w http.ResponseWriter, r *http.Request, s session) {
	list, err := a.identities(r.Context(), s.p.Subject)
	answer(w, err, http.StatusOK, map[string]any{"identities": list})
}

// apiIdentityPost starts a link flow with the provider: it redirects
// (303) to the provider, and the callback links what comes back to this
// account. A guarded POST: a page of another site cannot start it.
func (a *Account) apiIdentityPost(w http.ResponseWriter, r *http.Request, s session) {
	if err := a.needSocial(); err != nil {
		problem.Write(w, err)
		return
	}
	pw, code, err := a.passwordCodeBody(w, r)
	if err == nil {
		err = a.proveLinker(r, s, pw, code)
	}
	if err != nil {
		problem.Write(w, err)
		return
	}
	// Begin checks the provider and the limit before writing anything;
	// the intent cookie goes only with its redirect.
	rw := &deferCookie{ResponseWriter: w, set: func() { a.setLinkIntent(w, s) }}
	if err := a.cfg.OIDC.Begin(rw, r, r.PathValue("name"), r.URL.Query().Get("next")); err != nil {
		problem.Write(w, err)
	}
}

// proveLinker asks for what adding a way in asks for: the password, when
// the account has one, and a code of its second factor from a session
// that did not pass it (proveFactorIfAny). A linked provider survives
// "log out everywhere" and a password reset: whoever holds a session for
// a moment must not be able to add their own provider account to it.
func (a *Account) proveLinker(r *http.Request, s session, pw, code string) error {
	client, err := a.client(r)
	if err != nil {
		return err
	}
	if len(s.user.PasswordHash) > 0 {
		if err := a.proveOwner(r.Context(), client, info(r), s.user, pw, "password"); err != nil {
			return err
		}
	}
	return a.proveFactorIfAny(r.Context(), s, code)
}

// deferCookie runs set just before the first WriteHeader.
type deferCookie struct {
	http.ResponseWriter
	set  func()
	done bool
}

func (d *deferCookie) WriteHeader(code int) {
	if !d.done {
		d.done = true
		d.set()
	}
	d.ResponseWriter.WriteHeader(code)
}

func (d *deferCookie) Write(b []byte) (int, error) {
	if !d.done {
		d.WriteHeader(http.StatusOK)
	}
	return d.ResponseWriter.Write(b)
}

func (a *Account) apiIdentityDelete(w http.ResponseWriter, r *http.Request, s session) {
	pw, _, err := a.passwordCodeBody(w, r)
	if err != nil {
		answer(w, err, 0, nil)
		return
	}
	client, err := a.client(r)
	if err == nil {
		err = a.unlink(r.Context(), client, info(r), s, r.PathValue("name"), pw)
	}
	answer(w, err, http.StatusNoContent, nil)
}

// unlink removes a linked identity, never the account's last way in: an
// account without a password keeps at least one identity. With a
// password, the password is asked (proveOwner), as for every change that
// could lock the owner out.
func (a *Account) unlink(ctx context.Context, client netip.Prefix, ri reqInfo, s session, id, pw string) error {
	list, err := a.identities(ctx, s.p.Subject)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(x IdentityItem) bool { return x.ID == id })
	if i < 0 {
		return ErrNoIdentity
	}
	if len(s.user.PasswordHash) == 0 {
		if len(list) < 2 {
			return ErrLastLoginMethod
		}
	} else if err := a.proveOwner(ctx, client, ri, s.user, pw, "password"); err != nil {
		return err
	}
	x := list[i]
	// Without a password, one identity must stay: checked again by the
	// unlink itself, atomically, as two unlinks at once both pass the
	// check above.
	keep := 0
	if len(s.user.PasswordHash) == 0 {
		keep = 1
	}
	if err := a.cfg.Identities.UnlinkIdentity(ctx, s.p.Subject, x.Issuer, x.Subject, keep); err != nil {
		return err
	}
	a.rec.Record(ctx, audit.IdentityUnlinked, slog.String(audit.KeySubject, s.p.Subject),
		slog.String(audit.KeyProvider, x.Provider), slog.String(audit.KeyIssuer, x.Issuer))
	return nil
}

// unlinkAll removes every identity linked to the account (its deletion).
func (a *Account) unlinkAll(ctx context.Context, subject string) error {
	if a.cfg.Identities == nil {
		return nil
	}
	list, err := a.cfg.Identities.ListIdentities(ctx, subject)
	if err != nil {
		return err
	}
	for _, x := range list {
		if err := a.cfg.Identities.UnlinkIdentity(ctx, subject, x.Issuer, x.Subject, 0); err != nil && !errors.Is(err, ErrNoIdentity) {
			return err
		}
		a.rec.Record(ctx, audit.IdentityUnlinked, slog.String(audit.KeySubject, subject),
			slog.String(audit.KeyProvider, x.Provider), slog.String(audit.KeyIssuer, x.Issuer))
	}
	return nil
}
