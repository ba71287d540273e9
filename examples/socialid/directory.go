package main

import (
	"context"
	"log"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/password"
)

// account is one of the app's users. gatehouse never sees this type: it
// reads users through auth.Users.
type account struct {
	ID             int64
	Username       string
	Email          string // lower case
	hash           []byte
	Active         bool
	EmailConfirmed bool
}

// directory is the app's user table, in memory. It implements auth.Users
// and auth.HashUpdater. It is safe for concurrent use.
type directory struct {
	mu      sync.Mutex
	byID    map[int64]*account
	byLogin map[string]*account // username, and email address
}

// demoPassword is every demo user's password, from the seed.
const demoPassword = "john_doe_secret"

// newDirectory creates the demo users, hashing their passwords with h.
func newDirectory(h password.Hasher) (*directory, error) {
	d := &directory{byID: map[int64]*account{}, byLogin: map[string]*account{}}
	for _, a := range []account{
		{ID: 341, Username: "john_doe", Email: "john_doe@domain.com", Active: true, EmailConfirmed: true},
		{ID: 342, Username: "inactive_user", Email: "inactive_user@domain.com", Active: false, EmailConfirmed: true},
		{ID: 343, Username: "unconfirmed_user", Email: "unconfirmed_user@domain.com", Active: true, EmailConfirmed: false},
	} {
		hash, err := h.Hash([]byte(demoPassword))
		if err != nil {
			return nil, err
		}
		a.hash = hash
		d.byID[a.ID] = &a
		d.byLogin[a.Username] = &a
		d.byLogin[auth.NormalizeLogin(a.Email)] = &a
	}
	return d, nil
}

func subjectOf(id int64) string { return strconv.FormatInt(id, 10) }

// FindUser implements auth.Users. login is already normalised: trimmed,
// and lower case when it is an email address.
func (d *directory) FindUser(_ context.Context, login string) (auth.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byLogin[login]
	if !ok {
		return auth.User{}, auth.ErrUnknownUser
	}
	return auth.User{Subject: subjectOf(a.ID), PasswordHash: a.hash, Active: a.Active, EmailConfirmed: a.EmailConfirmed, Email: a.Email}, nil
}

// UpdatePasswordHash implements auth.HashUpdater: when the configured
// bcrypt cost is raised, users are rehashed as they log in.
func (d *directory) UpdatePasswordHash(_ context.Context, subject string, hash []byte) error {
	id, err := strconv.ParseInt(subject, 10, 64)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.byID[id]; ok {
		a.hash = hash
	}
	return nil
}

// get returns a copy of the account with the id.
func (d *directory) get(id int64) (account, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byID[id]
	if !ok {
		return account{}, false
	}
	return *a, true
}

// byEmail returns a copy of the account with the address.
func (d *directory) byEmail(email string) (account, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byLogin[auth.NormalizeLogin(email)]
	if !ok || a.Email != auth.NormalizeLogin(email) {
		return account{}, false
	}
	return *a, true
}

// update changes the account with the id under the lock and returns the
// result.
func (d *directory) update(id int64, f func(*account)) (account, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byID[id]
	if !ok {
		return account{}, false
	}
	f(a)
	return *a, true
}

// outbox is the example's auth.Mailer: it keeps the last messages in
// memory, for tests, and logs a line for each.
type outbox struct {
	logger *log.Logger
	mu     sync.Mutex
	msgs   []sentMail
}

// sentMail is a message and the link the mail carries.
type sentMail struct {
	auth.Message
	Link string
}

// maxOutbox bounds what the outbox keeps.
const maxOutbox = 100

// Send implements auth.Mailer.
func (o *outbox) Send(ctx context.Context, m auth.Message) error {
	link := baseURLFrom(ctx) + "/v1/marketing/login/users/confirm_email?token=" + m.Token
	o.mu.Lock()
	if len(o.msgs) == maxOutbox {
		o.msgs = append(o.msgs[:0], o.msgs[1:]...)
	}
	o.msgs = append(o.msgs, sentMail{Message: m, Link: link})
	o.mu.Unlock()
	// The demo has no mail server, so the link is logged for whoever runs
	// it to follow. A real Mailer must not do this: the token in a log is a
	// key to the account for anyone who reads the log. Log the recipient
	// at most.
	o.logger.Printf("socialid: demo mail to %s: confirm your address at %s", m.To, link)
	return nil
}

// last returns the latest message to the address.
func (o *outbox) last(to string) (sentMail, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.msgs) - 1; i >= 0; i-- {
		if strings.EqualFold(o.msgs[i].To, to) {
			return o.msgs[i], true
		}
	}
	return sentMail{}, false
}

type baseURLKey struct{}

// withBaseURL tells the mailer where the app is reached (its configured
// public URL), so the link it writes points there.
func withBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, base)
}

func baseURLFrom(ctx context.Context) string {
	base, _ := ctx.Value(baseURLKey{}).(string)
	return base
}
