package main

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/oidc"
)

// identityKey is what a provider's identity is linked on: its issuer and
// subject, nothing else. An email address is the provider's current word,
// which the user may change, and another provider may hand the same
// address to someone else; a subject is unique only within its issuer.
type identityKey struct{ issuer, subject string }

// account is a user of the app.
type account struct {
	Subject string // the app's own id of the account: sessions belong to it
	Email   string // the verified address it was created with
	Name    string
	// Identities are the provider identities linked to it, with what each
	// provider last said of the user.
	Identities []linked
}

// linked is one provider identity of an account.
type linked struct {
	Provider, Issuer, Subject, Email, Name string
}

// directory keeps the accounts and their linked identities, in memory: a
// real app keeps both in its database, with a unique index on (issuer,
// subject). It is the app's auth.Users: sessions are issued for accounts
// it finds by subject (auth.SubjectFinder); there are no password logins.
type directory struct {
	mu         sync.Mutex
	bySubject  map[string]*account
	byIdentity map[identityKey]string // the account's Subject
	byEmail    map[string]string      // the account's Subject
}

func newDirectory() *directory {
	return &directory{bySubject: map[string]*account{}, byIdentity: map[identityKey]string{}, byEmail: map[string]string{}}
}

// Refusals of signIn, each answered with a page of its own.
var (
	// errEmailUnverified: a new identity whose provider does not vouch for
	// its email address creates no account.
	errEmailUnverified = errors.New("the provider has not verified this email address")
	// errEmailTaken: a new identity whose verified address is an existing
	// account's is not linked to it: the account's owner would have to
	// prove it first (log in and link, or a mailed confirmation), which
	// this example leaves to package account.
	errEmailTaken = errors.New("an account with this email address exists")
)

// signIn finds the account linked to id by (Issuer, Subject), and
// refreshes what the provider says of the user (email, name): a changed
// address at the provider keeps the account. An identity seen for the
// first time creates an account if the provider verified its email and no
// account has that address yet. created says whether it did.
func (d *directory) signIn(id oidc.Identity) (acct account, created bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := identityKey{id.Issuer, id.Subject}
	if sub, ok := d.byIdentity[key]; ok {
		a := d.bySubject[sub]
		for i := range a.Identities {
			if a.Identities[i].Issuer == id.Issuer && a.Identities[i].Subject == id.Subject {
				a.Identities[i].Email, a.Identities[i].Name = id.Email, id.Name
			}
		}
		return a.clone(), false, nil
	}
	if id.Email == "" || !id.EmailVerified {
		return account{}, false, errEmailUnverified
	}
	email := auth.NormalizeLogin(id.Email)
	if _, taken := d.byEmail[email]; taken {
		return account{}, false, errEmailTaken
	}
	a := &account{Subject: "acct-" + rand.Text()[:16], Email: email, Name: id.Name,
		Identities: []linked{{Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, Name: id.Name}}}
	d.bySubject[a.Subject] = a
	d.byIdentity[key] = a.Subject
	d.byEmail[email] = a.Subject
	return a.clone(), true, nil
}

// get returns the account with the subject.
func (d *directory) get(subject string) (account, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.bySubject[subject]
	if !ok {
		return account{}, false
	}
	return a.clone(), true
}

func (a *account) clone() account {
	c := *a
	c.Identities = append([]linked(nil), a.Identities...)
	return c
}

// FindUser is auth.Users: no account logs in with a password here.
func (d *directory) FindUser(context.Context, string) (auth.User, error) {
	return auth.User{}, auth.ErrUnknownUser
}

// FindSubject is auth.SubjectFinder: auth.LoginExternal finds the account
// as it is now (an unknown one is refused).
func (d *directory) FindSubject(_ context.Context, subject string) (auth.User, error) {
	a, ok := d.get(subject)
	if !ok {
		return auth.User{}, auth.ErrUnknownUser
	}
	// The provider verified the address the account was created with.
	return auth.User{Subject: a.Subject, Active: true, EmailConfirmed: true, Email: a.Email}, nil
}
