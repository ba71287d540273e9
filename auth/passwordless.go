package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/internal/httpbody"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// ErrUserVerificationRequired: a passwordless login by a passkey that did
// not verify its user (401 user_verification_required).
var ErrUserVerificationRequired = problem.New("auth: a passwordless login needs a user-verified passkey", problem.Error{
	Status: http.StatusUnauthorized, Code: "user_verification_required",
	Message: "this passkey did not verify the user (a PIN or biometric); log in with the password"})

// Passwordless checks the proofs of a passwordless login: a passkey's
// response to a challenge that named no account (a discoverable
// credential names it). *passkey.Manager implements it with plain types.
// Implementations must be safe for concurrent use.
type Passwordless interface {
	// VerifyPasswordless checks response (the browser's JSON) against a
	// live passwordless challenge, consuming it, and returns the subject
	// whose passkey signed it and whether the authenticator verified the
	// user (a PIN or biometric). Errors carry their own Problem.
	VerifyPasswordless(ctx context.Context, response []byte) (subject string, userVerified bool, err error)
}

// LoginPasswordless logs in with a passkey alone: it takes one unit of
// the client's limit.Login rate (client as in Credentials.Client), checks
// response with Config.Passwordless, finds the account as it is now (with
// a SubjectFinder Users: a deactivated or unconfirmed one is refused as a
// password login would refuse it) and issues a session of the project.
// Only a passkey that verified its user (a PIN or biometric) logs in
// alone: it is then a multi-factor cryptographic authenticator (SP
// 800-63B) and the session is at AssuranceMultiFactor. One that did not
// is a single factor, something the user has, such as a security key kept
// as an account's second factor: alone it would open an account that
// asks for two factors, without its password, so it is refused
// (ErrUserVerificationRequired), whatever the passkey policy accepts.
//
// Errors: a response that does not verify is the Passwordless's error as
// it is (a 4xx with its code; the challenge it named is spent either
// way); a spent rate limit is a *limit.Error (429); a store failure wraps
// store.ErrUnavailable; without Config.Passwordless, a *ConfigError.
func (a *Authenticator) LoginPasswordless(ctx context.Context, response []byte, project string, client netip.Prefix) (s Session, err error) {
	var subject string
	defer func() {
		a.record(ctx, audit.LoginSucceeded, audit.LoginFailed, "passkey", err, subjectAttr(subject), clientAttr(client), projectAttr(project))
	}()
	if a.passwordless == nil {
		return Session{}, &ConfigError{Method: "LoginPasswordless", Missing: []string{"Config.Passwordless"}}
	}
	if len(response) == 0 {
		return Session{}, &FieldError{Field: "response", Reason: "missing"}
	}
	if len(response) > MaxPasskeyResponse {
		return Session{}, &FieldError{Field: "response", Reason: "too long"}
	}
	if a.limiter != nil {
		if err := a.limiter.Allow(ctx, limit.Login, client, ""); err != nil {
			return Session{}, err
		}
	}
	subject, uv, err := a.passwordless.VerifyPasswordless(ctx, response)
	if err != nil {
		return Session{}, err
	}
	if !uv {
		return Session{}, ErrUserVerificationRequired
	}
	u, err := a.userNow(ctx, subject)
	if err != nil {
		return Session{}, err
	}
	iss, err := a.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: subject, Project: project, Assurance: AssuranceMultiFactor})
	a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindSession), subjectAttr(subject), projectAttr(project))
	if err != nil {
		return Session{}, err
	}
	return Session{User: u, Token: iss.Token, Project: project, ExpiresAt: iss.Record.ExpiresAt,
		Unconfirmed: u.Active && !u.EmailConfirmed}, nil
}

// passwordlessRequest is the body of a passwordless login: {"response":
// <the browser's PublicKeyCredential as JSON>, "session"}.
type passwordlessRequest struct {
	Response json.RawMessage `json:"response"`
	Session  string          `json:"session"`
}

// PasswordlessHandler logs in with a passkey (LoginPasswordless). A JSON
// body {"response": <the PublicKeyCredential the browser returned, as
// JSON>} is answered like LoginHandler's: 200 {"token", "expires_at"}, or
// the session cookie and {"expires_at"} when Options.JSONCookie is set or
// the body says "session": "cookie". The challenge comes from the app's
// passkey options route (passkey.Manager.BeginPasswordless). It answers
// JSON only: a passkey needs script in the page anyway.
func (a *Authenticator) PasswordlessHandler(opts HandlerOptions) http.Handler {
	o := opts.withDefaults()
	maxBody := min(o.MaxBodyBytes, int64(MaxPasskeyResponse+1<<10))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		var req passwordlessRequest
		_, err := httpbody.Decode(w, r, maxBody, &req, nil)
		jsonCookie := false
		if err == nil {
			jsonCookie, err = o.jsonSession(req.Session)
		}
		var client netip.Prefix
		if err == nil {
			client, err = o.Client(r)
		}
		var s Session
		if err == nil {
			s, err = a.LoginPasswordless(r.Context(), req.Response, o.Project(r), client)
		}
		if err == nil {
			err = a.keepLogin(w, r, o, s, DeviceSession{}, false, jsonCookie)
		}
		answerLogin(w, r, o, s, err, false, jsonCookie)
	})
	return o.CrossOrigin.Handler(h)
}
