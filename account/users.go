package account

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/problem"
)

// The app's user table stays the app's: the account API reads it through
// auth.Users and auth.SubjectFinder, and changes it through the small
// interfaces below, each discovered by a type assertion as
// auth.HashUpdater is. New says which routes a missing one turns off.

// NewUser is an account to create: what a signup gives.
type NewUser struct {
	Email        string // normalised (auth.NormalizeLogin), not yet confirmed
	Username     string // "" when the app's signup asks none
	PasswordHash []byte // the new password, hashed in NFC by auth.HashPassword
}

// Creator creates accounts (signup).
type Creator interface {
	// CreateUser adds an active, unconfirmed account and returns its new
	// subject. It returns an error wrapping ErrTaken when the address (or
	// the username) already names an account: of concurrent creations of
	// one address exactly one succeeds, so it must be atomic (a unique
	// index in a database).
	CreateUser(ctx context.Context, u NewUser) (subject string, err error)
}

// EmailSetter changes an account's address (email confirmation and
// change).
type EmailSetter interface {
	// SetEmail makes email the subject's address, confirmed or not. It
	// returns an error wrapping ErrTaken when another account has it.
	SetEmail(ctx context.Context, subject, email string, confirmed bool) error
}

// Deleter deletes accounts.
type Deleter interface {
	// DeleteUser removes the subject's account; a deleted account's
	// FindUser and FindSubject answer auth.ErrUnknownUser.
	DeleteUser(ctx context.Context, subject string) error
}

// ErrTaken is what Creator and EmailSetter wrap when an address or a
// username names another account. The account API never shows it to a
// client that has not proved it owns the address (409 taken).
var ErrTaken = problem.New("account: address or username taken", problem.Error{
	Status: http.StatusConflict, Code: "taken", Message: "the address is in use by another account"})

// errNotHere: the user table cannot do what the route asks (501).
var errNotHere = problem.New("account: the user table does not support this", problem.Error{
	Status: http.StatusNotImplemented, Code: "not_supported", Message: "this server does not support this"})

// userTable is what the account API needs of the app's users at least.
type userTable interface {
	auth.Users
	auth.SubjectFinder
}

// abilities are the optional interfaces the user table implements.
type abilities struct {
	creator Creator
	emails  EmailSetter
	deleter Deleter
	hashes  auth.HashUpdater
}

func discover(u userTable) abilities {
	var ab abilities
	ab.creator, _ = u.(Creator)
	ab.emails, _ = u.(EmailSetter)
	ab.deleter, _ = u.(Deleter)
	ab.hashes, _ = u.(auth.HashUpdater)
	return ab
}

// isTaken reports whether err is the user table's "taken".
func isTaken(err error) bool { return errors.Is(err, ErrTaken) }
