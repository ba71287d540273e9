package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Bounds on the callback's parameters: far above what providers send
// (Google's codes are ~100 bytes, Entra's ~1.5 KB), far below what would
// cost anything to refuse.
const (
	maxQuery = 8 << 10
	maxState = 128
	maxCode  = 4 << 10
	maxNext  = 2 << 10
)

// ceremonyPrefix starts the Project of a flow's state record, followed by
// the provider's name: a state of one provider never finishes another's
// flow, and a passkey challenge never finishes an OIDC flow.
const ceremonyPrefix = "oidc:"

// bindPrefix starts the Subject of a state record, followed by the hash of
// the browser's binding cookie: the record names the browser, and the
// routing tag derived from it spreads flows over a cluster's slots.
const bindPrefix = "oidc:browser:"

// Begin starts a login with the named provider: it checks next against
// Config.RedirectAllowlist, takes one unit of the client's limit, stores a
// one-time state bound to this browser (a random value in a __Host-
// cookie, whose hash is in the state's record), and redirects (303) to the
// provider's authorization URL with PKCE S256 and a nonce. The nonce and
// the PKCE verifier are derived from the state with a key of
// Config.Tokens, so nothing secret is stored. On an error nothing is
// written to w; answer it with problem.Write.
func (rp *RP) Begin(w http.ResponseWriter, r *http.Request, providerName, next string) error {
	err := rp.begin(w, r, providerName, next)
	if err != nil {
		rp.failed(r.Context(), providerName, err)
	}
	return err
}

func (rp *RP) begin(w http.ResponseWriter, r *http.Request, providerName, next string) error {
	ctx := r.Context()
	p, ok := rp.providers[providerName]
	if !ok {
		return ErrUnknownProvider
	}
	next, err := rp.checkNext(next)
	if err != nil {
		return err
	}
	if rp.cfg.Limiter != nil {
		client, err := rp.cfg.ClientAddr(r)
		if err != nil {
			return fmt.Errorf("oidc: client address: %w", err)
		}
		if err := rp.cfg.Limiter.Allow(ctx, limit.Login, client, ""); err != nil {
			return err
		}
	}
	rd, err := p.discover(ctx)
	if err != nil {
		return err
	}
	// One binding value per browser, kept across flows: two tabs starting
	// two logins both finish.
	bind := ""
	if c, err := r.Cookie(rp.cfg.CookieName); err == nil && validBind(c.Value) {
		bind = c.Value
	} else {
		bind = rand.Text() + rand.Text() // 260 bits
	}
	iss, err := rp.cfg.Tokens.Issue(ctx, store.KindChallenge, tokens.Claims{
		Subject: bindPrefix + bindHash(bind), Project: ceremonyPrefix + p.Name, Device: next})
	if err != nil {
		return fmt.Errorf("oidc: issuing the state: %w", err)
	}
	state := iss.Token
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(rp.derive("pkce", state))}
	if p.Mapper == nil {
		opts = append(opts, gooidc.Nonce(rp.derive("nonce", state)))
	}
	for k, v := range p.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	http.SetCookie(w, &http.Cookie{Name: rp.cfg.CookieName, Value: bind, Path: "/",
		MaxAge: int(rp.ttl.Seconds()) + 60, Secure: !rp.cfg.InsecureCookie, HttpOnly: true,
		// Lax, not Strict: the callback is a top-level navigation from
		// the provider's site, which Strict would send without it.
		SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, rd.oauth.AuthCodeURL(state, opts...), http.StatusSeeOther)
	rp.rec.Record(ctx, audit.OIDCStarted, slog.String(audit.KeyProvider, p.Name))
	return nil
}

// Finish completes the flow at the callback (the request the provider
// redirected the browser to) and returns the identity and the next target
// Begin accepted ("" for the app's default). It checks, each refusal with
// its code: the query's shape (invalid_callback), an error from the
// provider (provider_error), the state, consumed atomically whatever the
// outcome, live and of this browser (invalid_state; of concurrent
// callbacks with one state at most one passes), the iss parameter if sent
// (issuer_mismatch), the code exchange with the PKCE verifier
// (code_rejected, provider_unavailable), the ID token's signature,
// algorithm, issuer, audience, expiry and nonce (invalid_id_token), and
// userinfo when configured. Finish writes nothing to w: the app issues a
// session for the identity (linked on Issuer and Subject only) and
// redirects to next.
func (rp *RP) Finish(w http.ResponseWriter, r *http.Request) (Identity, string, error) {
	id, next, name, err := rp.finish(r)
	if err != nil {
		rp.failed(r.Context(), name, err)
		return Identity{}, "", err
	}
	rp.rec.Record(r.Context(), audit.OIDCSucceeded, slog.String(audit.KeyProvider, name),
		slog.String(audit.KeyIssuer, id.Issuer), slog.String(audit.KeySubject, id.Subject))
	return id, next, nil
}

func (rp *RP) finish(r *http.Request) (Identity, string, string, error) {
	ctx := r.Context()
	q, err := callbackParams(r)
	if err != nil {
		return Identity{}, "", "", err
	}
	state := q["state"]
	if tokens.KindOf(state) != store.KindChallenge {
		return Identity{}, "", "", fmt.Errorf("%w: state", ErrInvalidState) // garbage: no store I/O
	}
	rec, err := rp.cfg.Tokens.Consume(ctx, store.KindChallenge, state)
	switch {
	case errors.Is(err, tokens.ErrTagMismatch):
		rp.rec.Record(ctx, audit.TokenTagMismatch, slog.String(audit.KeyKind, store.KindChallenge.String()))
		return Identity{}, "", "", ErrInvalidState
	case errors.Is(err, tokens.ErrInvalid), errors.Is(err, tokens.ErrMalformed), errors.Is(err, tokens.ErrWrongKind),
		errors.Is(err, tokens.ErrMissing):
		return Identity{}, "", "", ErrInvalidState
	case err != nil:
		return Identity{}, "", "", fmt.Errorf("oidc: consuming the state: %w", err)
	}
	name, ok := strings.CutPrefix(rec.Project, ceremonyPrefix)
	p := rp.providers[name]
	if !ok || p == nil {
		return Identity{}, "", "", fmt.Errorf("%w: not an OIDC flow", ErrInvalidState)
	}
	// The browser: the cookie's hash must be the one the state was issued
	// to. A state carried to another browser (a login CSRF, or a stolen
	// callback URL) fails here, and is spent.
	c, err := r.Cookie(rp.cfg.CookieName)
	if err != nil || !validBind(c.Value) ||
		subtle.ConstantTimeCompare([]byte(bindPrefix+bindHash(c.Value)), []byte(rec.Subject)) != 1 {
		return Identity{}, "", name, fmt.Errorf("%w: another browser", ErrInvalidState)
	}
	if e := q["error"]; e != "" {
		return Identity{}, "", name, fmt.Errorf("%w: %q", ErrProviderError, e)
	}
	if q["code"] == "" {
		return Identity{}, "", name, fmt.Errorf("%w: no code", ErrInvalidCallback)
	}
	rd, err := p.discover(ctx)
	if err != nil {
		return Identity{}, "", name, err
	}
	if iss, ok := q["iss"]; ok && iss != rd.issuer {
		return Identity{}, "", name, fmt.Errorf("%w: %q", ErrIssuerMismatch, iss)
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, rp.cfg.HTTPClient)
	tok, err := rd.oauth.Exchange(hctx, q["code"], oauth2.VerifierOption(rp.derive("pkce", state)))
	if err != nil {
		return Identity{}, "", name, exchangeError(err)
	}
	var id Identity
	if p.Mapper != nil {
		id, err = p.Mapper.Identity(hctx, tok, rd.oauth.Client(hctx, tok))
		if err == nil && id.Subject == "" {
			err = fmt.Errorf("%w: %w", ErrProviderUnavailable, errNoIdentity)
		}
	} else {
		id, err = rp.verify(hctx, p, rd, tok, state)
	}
	if err != nil {
		return Identity{}, "", name, err
	}
	id.Issuer, id.Provider = rd.issuer, name
	return id, rec.Device, name, nil
}

// verify checks the ID token of tok and reads its claims, then userinfo.
func (rp *RP) verify(ctx context.Context, p *provider, rd *ready, tok *oauth2.Token, state string) (Identity, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: no id_token in the token response", ErrInvalidIDToken)
	}
	var fetchFailed bool
	idt, err := rd.verifier.Verify(context.WithValue(ctx, fetchFailedKey{}, &fetchFailed), raw)
	if err != nil {
		if fetchFailed {
			return Identity{}, fmt.Errorf("%w: JWKS: %v", ErrProviderUnavailable, err)
		}
		return Identity{}, fmt.Errorf("%w: %v", ErrInvalidIDToken, err)
	}
	if !hmac.Equal([]byte(idt.Nonce), []byte(rp.derive("nonce", state))) {
		return Identity{}, fmt.Errorf("%w: nonce is not the flow's", ErrInvalidIDToken)
	}
	var cl claims
	if err := idt.Claims(&cl); err != nil {
		return Identity{}, fmt.Errorf("%w: claims: %v", ErrInvalidIDToken, err)
	}
	// OpenID Connect Core 3.1.3.7: with several audiences, the party the
	// token was issued to (azp) must be us; go-oidc checks only that we
	// are among the audiences.
	if cl.AZP != "" && cl.AZP != p.ClientID || cl.AZP == "" && len(idt.Audience) > 1 {
		return Identity{}, fmt.Errorf("%w: azp %q", ErrInvalidIDToken, cl.AZP)
	}
	id := Identity{Subject: idt.Subject, Email: cl.Email, EmailVerified: cl.verified(), Name: cl.Name}
	if !p.UserInfo {
		return id, nil
	}
	ui, err := rd.userinfo.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: userinfo: %v", ErrProviderUnavailable, err)
	}
	// OpenID Connect Core 5.3.2: a userinfo response of another subject
	// must not be used (a token substitution).
	if ui.Subject != idt.Subject {
		return Identity{}, fmt.Errorf("%w: userinfo subject is not the ID token's", ErrInvalidIDToken)
	}
	var uc claims
	if err := ui.Claims(&uc); err != nil {
		return Identity{}, fmt.Errorf("%w: userinfo: %v", ErrProviderUnavailable, err)
	}
	if id.Email == "" && uc.Email != "" {
		id.Email, id.EmailVerified = uc.Email, uc.verified()
	}
	if id.Name == "" {
		id.Name = uc.Name
	}
	return id, nil
}

// claims are the ID token's and userinfo's claims we read.
type claims struct {
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Name          string          `json:"name"`
	AZP           string          `json:"azp"`
}

// verified is true for email_verified true, or "true" as some providers
// (AWS Cognito) send it; anything else, missing included, is false.
func (c claims) verified() bool {
	s := string(c.EmailVerified)
	return s == "true" || s == `"true"`
}

// exchangeError sorts a failed code exchange: the provider refusing the
// code (a 4xx with an OAuth2 error) is the client's; anything else, an
// answer that does not parse, a 5xx, no answer, is the provider's.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 && re.ErrorCode != "" {
		return fmt.Errorf("%w: %s", ErrCodeRejected, re.ErrorCode)
	}
	return fmt.Errorf("%w: token endpoint: %v", ErrProviderUnavailable, err)
}

// callbackParams reads the callback's query: each parameter at most once,
// state and code bounded, the rest bounded by the whole.
func callbackParams(r *http.Request) (map[string]string, error) {
	raw := r.URL.RawQuery
	if len(raw) > maxQuery {
		return nil, fmt.Errorf("%w: query of %d bytes", ErrInvalidCallback, len(raw))
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCallback, err)
	}
	q := map[string]string{}
	for _, k := range []string{"state", "code", "error", "iss"} {
		switch vs := v[k]; {
		case len(vs) > 1:
			return nil, fmt.Errorf("%w: %s given %d times", ErrInvalidCallback, k, len(vs))
		case len(vs) == 1:
			q[k] = vs[0]
		}
	}
	switch {
	case q["state"] == "":
		return nil, fmt.Errorf("%w: no state", ErrInvalidCallback)
	case len(q["state"]) > maxState:
		return nil, fmt.Errorf("%w: state of %d bytes", ErrInvalidCallback, len(q["state"]))
	case len(q["code"]) > maxCode:
		return nil, fmt.Errorf("%w: code of %d bytes", ErrInvalidCallback, len(q["code"]))
	}
	if _, ok := q["error"]; ok && q["error"] == "" {
		q["error"] = "empty"
	}
	return q, nil
}

// derive returns the flow's value for purpose (the PKCE verifier, the
// nonce): HMAC-SHA256 of the state under the RP's key, 43 characters of
// unpadded base64url (RFC 7636's verifier alphabet and length). Only the
// holder of the key and the state can compute it; nothing is stored.
func (rp *RP) derive(purpose, state string) string {
	mac := hmac.New(sha256.New, rp.key)
	mac.Write([]byte(purpose + "\x00" + state))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// bindHash is the stored form of a binding cookie value.
func bindHash(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// validBind: what Begin sets, two rand.Text (base32, 26 characters each).
func validBind(v string) bool {
	if len(v) != 52 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// failed records a refused flow with its error code as the reason.
func (rp *RP) failed(ctx context.Context, providerName string, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		rp.rec.Record(ctx, audit.StoreUnavailable, slog.String(audit.KeyOp, "oidc"))
		return
	}
	if _, ok := rp.providers[providerName]; !ok {
		providerName = "" // a client's word, not logged
	}
	rp.rec.Record(ctx, audit.OIDCFailed, slog.String(audit.KeyProvider, providerName),
		slog.String(audit.KeyReason, problem.Of(err).Code))
}
