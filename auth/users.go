package auth

import (
	"context"
	"strings"
)

// User is what auth needs to know of an account the app owns.
type User struct {
	// Subject is the user's stable id: tokens and lockout counters belong to
	// it, whatever identifier (username or email) the user typed.
	Subject string
	// PasswordHash is the bcrypt hash of the password. Empty (or a hash
	// the Hasher cannot read) for an account without a password, such as
	// an SSO-only or invited one: its logins fail with
	// ErrInvalidCredentials, at the cost of a wrong password.
	PasswordHash []byte
	// Active is false for a deactivated account. The zero User is inactive,
	// so a forgotten field refuses logins rather than letting them in.
	Active bool
	// EmailConfirmed is false until the user has confirmed an address.
	// Unconfirmed users are refused unless Config.AllowUnconfirmed is set.
	EmailConfirmed bool
	// Email is the address on the account, as stored: password reset
	// mail goes to it, never to what the user typed. Empty means the
	// login the user typed is the address, which is safe only while
	// FindUser matches addresses exactly (byte for byte after
	// NormalizeLogin): a lookup that ignores case, accents or Unicode
	// look-alikes (a database collation, say) finds the account of
	// "jill@example.com" for "jıll@example.com" (a dotless ı) too, and the
	// reset link would go to whoever receives the look-alike's mail. Fill
	// it.
	Email string
	// Username is the account's user name, when it has one: a new
	// password may not be it (see SubjectFinder). Logins find accounts by
	// FindUser, not by this.
	Username string
}

// Users finds accounts. The app implements it over its own user table.
type Users interface {
	// FindUser returns the user whose username or email address is login.
	// login is already normalised (see [NormalizeLogin]). It returns an
	// error wrapping ErrUnknownUser when there is none; any other error is a
	// failure (answered 503 when it wraps store.ErrUnavailable, else 500).
	FindUser(ctx context.Context, login string) (User, error)
}

// SubjectFinder is implemented by Users that can find an account by its
// subject. When they do, a password reset refuses the account's own
// address (User.Email, and its local part) and Username as the new
// password, as the policy refuses context words.
type SubjectFinder interface {
	// FindSubject returns the user with the subject, or an error wrapping
	// ErrUnknownUser.
	FindSubject(ctx context.Context, subject string) (User, error)
}

// HashUpdater is implemented by Users that can store an upgraded password
// hash. When it is, a successful login whose hash was made at another cost
// than the configured one is rehashed and saved. Password reset needs it:
// without it RequestPasswordReset and ConfirmPasswordReset answer a
// *ConfigError.
type HashUpdater interface {
	UpdatePasswordHash(ctx context.Context, subject string, hash []byte) error
}

// NormalizeLogin trims white space and case-folds email addresses (anything
// with an '@'), so that "JOHN@Example.com " and "john@example.com" name one
// account. Usernames keep their case.
func NormalizeLogin(login string) string {
	login = strings.TrimSpace(login)
	if strings.Contains(login, "@") {
		login = strings.ToLower(login)
	}
	return login
}
