package main

import (
	"context"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/password"
)

// contact is one of the app's users, with the profile seed 003 answers a
// login with. gatehouse never sees this type: it reads users through
// auth.Users.
type contact struct {
	UID             string
	EmailAddress    string // lower case
	FirstName       string
	LastName        string
	KnownAs         string
	Company         string
	WebAdmin        bool
	LoginVerified   bool
	ConsentReceived bool
	UserStatus      string
	AllowLogin      bool
	hash            []byte
}

// demoContacts are the example's users and their passwords.
var demoContacts = []struct {
	contact
	password string
}{
	{contact{
		UID: "5f0c2e1a-3b1d-4a57-9c8e-1d2f3a4b5c6d", EmailAddress: "grace@example.com",
		FirstName: "Grace", LastName: "Hopper", KnownAs: "Amazing Grace", Company: "Remington Rand",
		WebAdmin: true, LoginVerified: true, ConsentReceived: true, UserStatus: "Member", AllowLogin: true,
	}, "hopper-secret"},
	{contact{
		UID: "a7d94b20-8e61-4c3f-b2a5-0e9f8d7c6b5a", EmailAddress: "alan@example.com",
		FirstName: "Alan", LastName: "Turing", KnownAs: "Prof", Company: "National Physical Laboratory",
		WebAdmin: false, LoginVerified: false, ConsentReceived: false, UserStatus: "Non-Member", AllowLogin: true,
	}, "turing-secret"},
}

// directory is the app's contact table, in memory. It implements
// auth.Users and auth.HashUpdater. It is safe for concurrent use.
type directory struct {
	mu      sync.Mutex
	byUID   map[string]*contact
	byEmail map[string]*contact
}

// newDirectory creates the demo contacts, hashing their passwords with h.
func newDirectory(h password.Hasher) (*directory, error) {
	d := &directory{byUID: map[string]*contact{}, byEmail: map[string]*contact{}}
	for _, dc := range demoContacts {
		c := dc.contact
		hash, err := h.Hash([]byte(dc.password))
		if err != nil {
			return nil, err
		}
		c.hash = hash
		d.byUID[c.UID] = &c
		d.byEmail[c.EmailAddress] = &c
	}
	return d, nil
}

// FindUser implements auth.Users. Contacts log in by email address only;
// login is already trimmed and lower case.
func (d *directory) FindUser(_ context.Context, login string) (auth.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return userOf(d.byEmail[login])
}

// FindSubject implements auth.SubjectFinder: with it a password reset
// refuses the contact's own address as the new password.
func (d *directory) FindSubject(_ context.Context, uid string) (auth.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return userOf(d.byUID[uid])
}

// userOf is the auth.User of a contact, or ErrUnknownUser for none.
func userOf(c *contact) (auth.User, error) {
	if c == nil {
		return auth.User{}, auth.ErrUnknownUser
	}
	return auth.User{Subject: c.UID, PasswordHash: c.hash, Active: c.AllowLogin, EmailConfirmed: c.LoginVerified, Email: c.EmailAddress}, nil
}

// UpdatePasswordHash implements auth.HashUpdater: a password reset saves
// the new password's hash here, and so does a login whose hash was made at
// another bcrypt cost.
func (d *directory) UpdatePasswordHash(_ context.Context, subject string, hash []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.byUID[subject]; ok {
		c.hash = hash
	}
	return nil
}

// get returns a copy of the contact with the uid.
func (d *directory) get(uid string) (contact, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.byUID[uid]
	if !ok {
		return contact{}, false
	}
	return *c, true
}

// verify marks the contact's address verified and returns the contact.
func (d *directory) verify(uid string) (contact, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.byUID[uid]
	if !ok {
		return contact{}, false
	}
	c.LoginVerified = true
	return *c, true
}

// outbox is the example's auth.Mailer. There is no mail server in a demo,
// so it keeps the last messages in memory, serves them at GET /outbox, and
// logs a line for each.
type outbox struct {
	logger *log.Logger
	mu     sync.Mutex
	msgs   []mail
}

// mail is a message as the outbox shows it.
type mail struct {
	To        string    `json:"to"`
	Purpose   string    `json:"purpose"`
	Link      string    `json:"link"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// maxOutbox bounds what the outbox keeps.
const maxOutbox = 100

// Send implements auth.Mailer. A real Mailer would hand the message to a
// mail queue and return at once: RequestPasswordReset waits for Send, and a
// slow Send would tell by its timing which addresses have accounts.
func (o *outbox) Send(ctx context.Context, m auth.Message) error {
	// The token goes in the fragment of the link: browsers do not send a
	// fragment to the server, so it stays out of access logs and Referer
	// headers. The page there posts it to /api/PasswordReset/Confirm.
	msg := mail{To: m.To, Purpose: string(m.Purpose), Link: baseURLFrom(ctx) + "/reset-password#token=" + m.Token,
		Token: m.Token, ExpiresAt: m.ExpiresAt.UTC()}
	o.mu.Lock()
	if len(o.msgs) == maxOutbox {
		o.msgs = append(o.msgs[:0], o.msgs[1:]...)
	}
	o.msgs = append(o.msgs, msg)
	o.mu.Unlock()
	// A real Mailer logs the recipient at most: a reset token in a log is
	// the account, for anyone who can read the log.
	o.logger.Printf("contacts: demo mail (%s) to %s; see GET /outbox", m.Purpose, m.To)
	return nil
}

// last returns the latest message to the address.
func (o *outbox) last(to string) (mail, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.msgs) - 1; i >= 0; i-- {
		if o.msgs[i].To == to {
			return o.msgs[i], true
		}
	}
	return mail{}, false
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs)
}

// ServeHTTP is GET /outbox: every message the demo has "sent", newest
// last. It exists only because the demo has no mail server. A real app
// must never have it: a reset link is a key to its account, and it
// belongs in the one inbox that proves the contact owns the address, where
// RequestPasswordReset's "same answer for everyone" keeps it hidden. An
// outbox anyone can read hands every account to whoever asks for a reset.
func (o *outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	msgs := append([]mail{}, o.msgs...)
	o.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

type baseURLKey struct{}

// withBaseURL tells the mailer where the app is, so the link it writes
// points there.
func withBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, base)
}

func baseURLFrom(ctx context.Context) string {
	base, _ := ctx.Value(baseURLKey{}).(string)
	return base
}
