package auth

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/httpbody"
)

// PendingCookie keeps a form login's pending token between the password
// and the second step: Secure, HttpOnly, SameSite=Strict, for the whole
// site, until the token expires. It is no session: the guard never reads
// it, and the token opens nothing but SecondStepHandler.
const PendingCookie = "__Host-gatehouse-pending"

// pendingResponse is the JSON answer of a first step whose account needs
// its second factor.
type pendingResponse struct {
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	Pending   string    `json:"pending"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SetPendingCookie leaves p's pending token in PendingCookie, as a form
// login does: for a login that ends in a browser redirect rather than a
// form post (an OpenID provider's callback, after LoginExternal), whose
// second step is then SecondStepHandler's form.
func (a *Authenticator) SetPendingCookie(w http.ResponseWriter, p *SecondFactorError) {
	a.setPendingCookie(w, p)
}

func (a *Authenticator) setPendingCookie(w http.ResponseWriter, p *SecondFactorError) {
	http.SetCookie(w, &http.Cookie{Name: PendingCookie, Value: p.Pending, Path: "/",
		MaxAge: max(1, int(p.ExpiresAt.Sub(a.now())/time.Second)),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// ClearPendingCookie clears PendingCookie, with the attributes it is set
// with (a __Host- cookie is only replaced by one alike): for handlers that
// send a browser back to the password after its pending login ended.
func ClearPendingCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: PendingCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// secondStepRequest is the body of the second step: JSON {"pending",
// "kind", "code", "session"} or the same fields as a form (the pending
// token may come from the PendingCookie instead).
type secondStepRequest struct {
	Pending string `json:"pending"`
	Kind    string `json:"kind"`
	Code    string `json:"code"`
	Session string `json:"session"`
	// Response is a passkey's response (kind "passkey") as the JSON
	// object the browser made; a form sends it as the code, a string.
	Response json.RawMessage `json:"response"`
	// TrustDevice asks not to be asked for the second factor on this
	// device again (TrustDevice).
	TrustDevice bool `json:"trust_device"`
}

// maxSecondStepBody bounds the second step's body: short fields and, for
// a passkey, its response.
const maxSecondStepBody = MaxPasskeyResponse + 4<<10

// SecondStepHandler completes a login that LoginHandler answered
// second_factor_required. A JSON body {"pending", "kind" ("totp" or
// "recovery"), "code"} is answered 200 {"token", "expires_at"}, or with
// the session cookie and {"expires_at"} when Options.JSONCookie is set or
// the body says "session": "cookie"; a form (with Options.Cookies) takes
// the pending token from the form or the PendingCookie, sets the session
// cookie, clears the PendingCookie and redirects (303) to
// Options.Redirect. The pending token of a login that asked to be
// remembered also starts its remember-me chain (RememberCookie; it needs
// Options.RememberMe and its session in the cookie), and a completed
// cookie login ends the remember-me chain the browser held before, as
// LoginHandler does. Each request takes one unit of the client's
// limit.MFA rate before the store is asked (a malformed pending token is
// refused first, at no cost). A wrong code is answered with the second
// factor's error (401 invalid_code) and the pending token stays usable
// within the factor's attempt limit; see CompleteLogin. With
// "trust_device": true (a form's trust_device=on) a completed login also
// trusts the device (TrustDevice): a browser gets TrustCookie, a token
// client {"trusted_device", "trusted_device_expires_at"} to send as the
// login's "trusted_device". Errors are
// answered with their Problem as JSON, or for forms by a redirect
// carrying ?error=<code>.
func (a *Authenticator) SecondStepHandler(opts HandlerOptions) http.Handler {
	o := opts.withDefaults()
	maxBody := min(o.MaxBodyBytes, maxSecondStepBody)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		var req secondStepRequest
		form, err := httpbody.Decode(w, r, maxBody, &req, func(v url.Values) {
			req = secondStepRequest{Pending: v.Get("pending"), Kind: v.Get("kind"), Code: v.Get("code")}
			switch strings.ToLower(v.Get("trust_device")) {
			case "on", "true", "1", "yes":
				req.TrustDevice = true
			}
		})
		browser := form && o.Cookies != nil
		if err == nil && form && !browser {
			err = httpbody.ErrMediaType
		}
		if err == nil && browser && req.Pending == "" {
			if c, cerr := r.Cookie(PendingCookie); cerr == nil {
				req.Pending = c.Value
			}
		}
		jsonCookie := false
		if err == nil && !form {
			jsonCookie, err = o.jsonSession(req.Session)
		}
		var client netip.Prefix
		if err == nil {
			client, err = o.Client(r)
		}
		var s Session
		var ds DeviceSession
		remembered := false
		if err == nil && req.Code == "" && len(req.Response) > 0 {
			req.Code = string(req.Response)
		}
		if err == nil && (browser || jsonCookie) && o.RememberMe {
			// A login that may have asked to be remembered: one pass
			// completes either kind.
			ds, remembered, err = a.completeEither(r.Context(), req.Pending, req.Kind, req.Code, client)
			s = ds.Session
			remembered = remembered && err == nil
		} else if err == nil {
			s, err = a.CompleteLogin(r.Context(), req.Pending, req.Kind, req.Code, client)
		}
		if err == nil && req.TrustDevice {
			// The session just passed its second factor: the trust chain
			// starts now. The browser's old trust token, if any, is left
			// to expire: it is another account's or spent.
			// Trust is a convenience on top of the login: if it cannot be
			// had (the store blinked), the login stands without it, rather
			// than spend the pending token and the code for nothing.
			if t, terr := a.TrustDevice(r.Context(), s.Token); terr == nil {
				s.Trust = t
			}
		}
		if err == nil {
			err = a.keepLogin(w, r, o, s, ds, remembered, browser || jsonCookie)
		}
		if err == nil && (browser || len(r.CookiesNamed(PendingCookie)) > 0) {
			ClearPendingCookie(w)
		}
		answerLogin(w, r, o, s, err, browser, jsonCookie)
	})
	return o.CrossOrigin.Handler(h)
}
