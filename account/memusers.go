package account

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/gatehouse-go/gatehouse/auth"
)

// MemoryUsers is an in-memory user table with every ability the account
// API uses: for tests, examples and prototypes. Its accounts are lost
// when the process ends. It is safe for concurrent use.
type MemoryUsers struct {
	mu        sync.RWMutex
	bySubject map[string]*auth.User
	byLogin   map[string]string // normalised email or username → subject
}

// NewMemoryUsers returns an empty table.
func NewMemoryUsers() *MemoryUsers {
	return &MemoryUsers{bySubject: map[string]*auth.User{}, byLogin: map[string]string{}}
}

var _ interface {
	auth.Users
	auth.SubjectFinder
	auth.HashUpdater
	Creator
	EmailSetter
	Deleter
} = (*MemoryUsers)(nil)

// FindUser implements auth.Users: login is an address or a username.
func (m *MemoryUsers) FindUser(_ context.Context, login string) (auth.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if s, ok := m.byLogin[auth.NormalizeLogin(login)]; ok {
		return *m.bySubject[s], nil
	}
	return auth.User{}, auth.ErrUnknownUser
}

// FindSubject implements auth.SubjectFinder.
func (m *MemoryUsers) FindSubject(_ context.Context, subject string) (auth.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if u, ok := m.bySubject[subject]; ok {
		return *u, nil
	}
	return auth.User{}, auth.ErrUnknownUser
}

// CreateUser implements Creator.
func (m *MemoryUsers) CreateUser(_ context.Context, nu NewUser) (string, error) {
	sub := make([]byte, 12)
	rand.Read(sub)
	u := auth.User{Subject: "u_" + hex.EncodeToString(sub), PasswordHash: nu.PasswordHash, Active: true,
		Email: auth.NormalizeLogin(nu.Email), Username: nu.Username}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.freeLocked("", u.Email, u.Username); err != nil {
		return "", err
	}
	m.putLocked(&u)
	return u.Subject, nil
}

// Add puts a ready-made account in the table (a demo user, a test
// fixture); its Subject must be set. It fails like CreateUser when the
// address or username is taken.
func (m *MemoryUsers) Add(u auth.User) error {
	if u.Subject == "" {
		return fmt.Errorf("account: MemoryUsers.Add needs a Subject")
	}
	u.Email = auth.NormalizeLogin(u.Email)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.bySubject[u.Subject]; ok {
		return fmt.Errorf("account: subject %q: %w", u.Subject, ErrTaken)
	}
	if err := m.freeLocked("", u.Email, u.Username); err != nil {
		return err
	}
	m.putLocked(&u)
	return nil
}

// UpdatePasswordHash implements auth.HashUpdater.
func (m *MemoryUsers) UpdatePasswordHash(_ context.Context, subject string, hash []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.bySubject[subject]
	if !ok {
		return auth.ErrUnknownUser
	}
	u.PasswordHash = append([]byte(nil), hash...)
	return nil
}

// SetEmail implements EmailSetter.
func (m *MemoryUsers) SetEmail(_ context.Context, subject, email string, confirmed bool) error {
	email = auth.NormalizeLogin(email)
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.bySubject[subject]
	if !ok {
		return auth.ErrUnknownUser
	}
	if err := m.freeLocked(subject, email, ""); err != nil {
		return err
	}
	if u.Email != "" && u.Email != email {
		delete(m.byLogin, u.Email)
	}
	u.Email, u.EmailConfirmed = email, confirmed
	m.byLogin[email] = subject
	return nil
}

// DeleteUser implements Deleter.
func (m *MemoryUsers) DeleteUser(_ context.Context, subject string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.bySubject[subject]
	if !ok {
		return auth.ErrUnknownUser
	}
	delete(m.byLogin, u.Email)
	delete(m.byLogin, u.Username)
	delete(m.bySubject, subject)
	return nil
}

// Len is how many accounts the table holds.
func (m *MemoryUsers) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.bySubject)
}

// freeLocked fails when email or username (either may be "") names an
// account other than subject's.
func (m *MemoryUsers) freeLocked(subject, email, username string) error {
	for _, l := range []string{email, username} {
		if s, ok := m.byLogin[l]; l != "" && ok && s != subject {
			return ErrTaken
		}
	}
	return nil
}

func (m *MemoryUsers) putLocked(u *auth.User) {
	m.bySubject[u.Subject] = u
	for _, l := range []string{u.Email, u.Username} {
		if l != "" {
			m.byLogin[l] = u.Subject
		}
	}
}
