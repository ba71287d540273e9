package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
)

// LinkedIdentity is an identity at a login provider linked to an account.
// It is found by (Issuer, Subject) only: Email and Name are what the
// provider said when it was linked, for showing, never for matching (an
// address or a login name can change hands; allauth 65.13.0 linked on
// preferred_username).
type LinkedIdentity struct {
	Issuer   string    `json:"issuer"`
	Subject  string    `json:"subject"`
	Provider string    `json:"provider"` // the oidc.Provider name it came through
	Email    string    `json:"email,omitempty"`
	Name     string    `json:"name,omitempty"`
	Linked   time.Time `json:"linked"`
}

// Identities is the app's table of linked identities (Config.Identities):
// the app owns it, as it owns its users. MemoryIdentities implements it.
type Identities interface {
	// FindIdentity returns the account the identity (issuer, subject) is
	// linked to, or an error wrapping ErrNoIdentity.
	FindIdentity(ctx context.Context, issuer, subject string) (accountSubject string, err error)
	// LinkIdentity links id to the account. An (issuer, subject) linked
	// already, to this account or another, is an error wrapping
	// ErrIdentityLinked: of concurrent links of one identity exactly one
	// succeeds (a unique index on (issuer, subject) in a database).
	LinkIdentity(ctx context.Context, accountSubject string, id LinkedIdentity) error
	// UnlinkIdentity removes the link; one the account does not have is
	// an error wrapping ErrNoIdentity. It refuses, with ErrLastLoginMethod
	// and removing nothing, when fewer than keep of the account's
	// identities would remain, in the same atomic step as the removal (in
	// SQL: a DELETE whose WHERE counts the account's other links): two
	// unlinks at once must not both see two links and leave none.
	UnlinkIdentity(ctx context.Context, accountSubject, issuer, subject string, keep int) error
	// ListIdentities returns the account's identities (none: empty).
	ListIdentities(ctx context.Context, accountSubject string) ([]LinkedIdentity, error)
}

// ErrNoIdentity: no such linked identity (404 no_identity).
var ErrNoIdentity = problem.New("account: no such linked identity", problem.Error{
	Status: http.StatusNotFound, Code: "no_identity", Message: "no such linked account"})

// ErrIdentityLinked: the provider identity is linked to an account
// already, perhaps another (409 identity_linked). Linking it elsewhere
// would let its holder into two accounts; its owner unlinks it first.
var ErrIdentityLinked = problem.New("account: identity already linked", problem.Error{
	Status: http.StatusConflict, Code: "identity_linked",
	Message: "this login provider account is already linked to an account"})

// MemoryIdentities is an in-memory Identities: for tests, examples and
// prototypes. It is safe for concurrent use.
type MemoryIdentities struct {
	mu        sync.RWMutex
	byID      map[[2]string]string        // (issuer, subject) → account
	byAccount map[string][]LinkedIdentity // account → its identities
}

// NewMemoryIdentities returns an empty table.
func NewMemoryIdentities() *MemoryIdentities {
	return &MemoryIdentities{byID: map[[2]string]string{}, byAccount: map[string][]LinkedIdentity{}}
}

var _ Identities = (*MemoryIdentities)(nil)

// FindIdentity implements Identities.
func (m *MemoryIdentities) FindIdentity(_ context.Context, issuer, subject string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if s, ok := m.byID[[2]string{issuer, subject}]; ok {
		return s, nil
	}
	return "", ErrNoIdentity
}

// LinkIdentity implements Identities.
func (m *MemoryIdentities) LinkIdentity(_ context.Context, account string, id LinkedIdentity) error {
	if account == "" || id.Issuer == "" || id.Subject == "" {
		return errors.New("account: LinkIdentity needs an account, an issuer and a subject")
	}
	k := [2]string{id.Issuer, id.Subject}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[k]; ok {
		return fmt.Errorf("%w: %s", ErrIdentityLinked, id.Issuer)
	}
	m.byID[k] = account
	m.byAccount[account] = append(m.byAccount[account], id)
	return nil
}

// UnlinkIdentity implements Identities.
func (m *MemoryIdentities) UnlinkIdentity(_ context.Context, account, issuer, subject string, keep int) error {
	k := [2]string{issuer, subject}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byID[k] != account || account == "" {
		return ErrNoIdentity
	}
	if len(m.byAccount[account])-1 < keep {
		return ErrLastLoginMethod
	}
	delete(m.byID, k)
	m.byAccount[account] = slices.DeleteFunc(m.byAccount[account], func(x LinkedIdentity) bool {
		return x.Issuer == issuer && x.Subject == subject
	})
	if len(m.byAccount[account]) == 0 {
		delete(m.byAccount, account)
	}
	return nil
}

// ListIdentities implements Identities.
func (m *MemoryIdentities) ListIdentities(_ context.Context, account string) ([]LinkedIdentity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.byAccount[account]), nil
}
