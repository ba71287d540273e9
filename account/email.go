package account

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Purposes of the messages the account API sends besides auth's
// (auth.PurposeConfirmEmail, auth.PurposeResetPassword). A Mailer
// switches on Message.Purpose to pick the words; Token, when set, goes
// in a link to the app's confirmation page, which posts it to
// /email/confirm.
const (
	// PurposeAccountExists: a signup named this address, which already
	// has an account. No token: tell the owner to log in, or to reset
	// the password if they forgot it or never finished signing up (a
	// reset confirms the address: see /password/reset).
	PurposeAccountExists auth.Purpose = "account_exists"
	// PurposeUsernameTaken: a signup from this address asked for a
	// username another account has. No token.
	PurposeUsernameTaken auth.Purpose = "username_taken"
	// PurposeConfirmNewEmail: confirm this new address for the account;
	// it takes effect when the token is posted to /email/confirm.
	PurposeConfirmNewEmail auth.Purpose = "confirm_new_email"
	// PurposeAddressInUse: a signed-in user of another account asked to
	// move to this address, which has an account. No token.
	PurposeAddressInUse auth.Purpose = "address_in_use"
	// PurposeEmailChanged: sent to the old address once the account moved
	// to a new one. No token; To is the old address.
	PurposeEmailChanged auth.Purpose = "email_changed"
)

// errBadLink: a confirmation token that is malformed, spent, expired, of
// another account or for an address the account no longer has. One
// answer for all (400 invalid_link): which it was helps nobody but an
// attacker.
var errBadLink = problem.New("account: invalid or used confirmation link", problem.Error{
	Status: http.StatusBadRequest, Code: "invalid_link", Message: "the link is invalid, expired or already used"})

// An email confirmation token is bound to the address it confirms: the
// token record's Project holds the purpose and a hash of the address (no
// address at rest), and the link carries the address itself after the
// token, as "<token>.<base64url address>". A token for an address the
// account has since left confirms nothing, and nobody can swap the
// address in a link without the hash failing.
const (
	bindConfirm = "email-confirm:"
	bindChange  = "email-change:"
	maxEmail    = 254 // RFC 5321's path limit
)

func binding(purpose, email string) string {
	h := sha256.Sum256([]byte(auth.NormalizeLogin(email)))
	return purpose + base64.RawURLEncoding.EncodeToString(h[:18])
}

// issueEmailToken issues a verification token binding email for the
// purpose and returns the text to mail.
func (a *Account) issueEmailToken(ctx context.Context, subject, purpose, email string) (string, tokens.Issued, error) {
	iss, err := a.cfg.Tokens.Issue(ctx, store.KindVerification, tokens.Claims{Subject: subject, Project: binding(purpose, email)})
	if err != nil {
		return "", iss, err
	}
	return iss.Token + "." + base64.RawURLEncoding.EncodeToString([]byte(email)), iss, nil
}

// splitLink reads "<token>.<base64url address>"; ok is false for
// anything else. No I/O: garbage is refused before the store.
func splitLink(s string) (token, email string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || len(s) > 1024 {
		return "", "", false
	}
	// One spelling per link: the decoder would also take other trailing
	// bits, and skip CR and LF.
	b, err := base64.RawURLEncoding.DecodeString(s[i+1:])
	if err != nil || base64.RawURLEncoding.EncodeToString(b) != s[i+1:] || len(b) == 0 || len(b) > maxEmail || !strings.Contains(string(b), "@") {
		return "", "", false
	}
	if tokens.KindOf(s[:i]) != store.KindVerification {
		return "", "", false
	}
	return s[:i], string(b), true
}

// bound reports whether rec was issued for email and purpose.
func bound(rec store.Record, purpose, email string) bool {
	want := binding(purpose, email)
	return subtle.ConstantTimeCompare([]byte(rec.Project), []byte(want)) == 1
}

// validEmail is the shape check of an address a user types: something@
// something, no spaces or controls, at most 254 bytes. Whether it takes
// mail is for the confirmation link to show.
func validEmail(field, email string) (string, error) {
	email = auth.NormalizeLogin(email)
	at := strings.LastIndexByte(email, '@')
	switch {
	case email == "":
		return "", &auth.FieldError{Field: field, Reason: "missing"}
	case len(email) > maxEmail:
		return "", &auth.FieldError{Field: field, Reason: "too long"}
	case at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>,;\"\\") || strings.ContainsFunc(email, isControl):
		return "", &auth.FieldError{Field: field, Reason: "invalid"}
	}
	return email, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
