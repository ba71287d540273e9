package main

import (
	"context"
	"sync"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/password"
)

// currentUser is the seed's CurrentUser: what Me shows.
type currentUser struct {
	ID        string
	FirstName string
	LastName  string
	ImageURL  string
}

// account is one of the app's users. gatehouse never sees this type: it
// reads users through auth.Users. The subject is the user's ID.
type account struct {
	userName string
	hash     []byte
	me       currentUser
}

// directory is the app's user table, in memory. It implements auth.Users
// and auth.HashUpdater, and is safe for concurrent use.
type directory struct {
	mu     sync.Mutex
	byName map[string]*account
	byID   map[string]*account
}

// The demo user.
const (
	demoUser     = "ada"
	demoPassword = "correct horse battery staple"
	demoUserID   = "9db464aa-9490-4af3-b6bd-f5766bb1ffc4"
)

// newDirectory creates the demo user, hashing the password with h.
func newDirectory(h password.Hasher) (*directory, error) {
	hash, err := h.Hash([]byte(demoPassword))
	if err != nil {
		return nil, err
	}
	ada := &account{userName: demoUser, hash: hash, me: currentUser{
		ID:        demoUserID,
		FirstName: "Ada",
		LastName:  "Lovelace",
		ImageURL:  "https://upload.wikimedia.org/wikipedia/commons/a/a4/Ada_Lovelace_portrait.jpg",
	}}
	return &directory{
		byName: map[string]*account{ada.userName: ada},
		byID:   map[string]*account{ada.me.ID: ada},
	}, nil
}

// FindUser implements auth.Users; login is already trimmed.
func (d *directory) FindUser(_ context.Context, login string) (auth.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byName[login]
	if !ok {
		return auth.User{}, auth.ErrUnknownUser
	}
	return auth.User{Subject: a.me.ID, PasswordHash: a.hash, Active: true, EmailConfirmed: true}, nil
}

// UpdatePasswordHash implements auth.HashUpdater.
func (d *directory) UpdatePasswordHash(_ context.Context, subject string, hash []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.byID[subject]; ok {
		a.hash = hash
	}
	return nil
}

// me returns the profile of the subject.
func (d *directory) me(subject string) (currentUser, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byID[subject]
	if !ok {
		return currentUser{}, false
	}
	return a.me, true
}
