package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Attempt names the counters one login attempt is checked and counted
// against, and the limits they keep. Every counter lives in Group (one
// Lua script and one slot on Redis Cluster), so that "is it locked" and
// "count this try" are one atomic step: of any number of concurrent
// attempts, no more are counted than the limits allow.
//
// There are two pairs of counters. The name pair counts attempts through
// the identifier the client typed: it decides the lock a client sees
// (Locked), and it behaves the same whether or not the name is an
// account's, so that a lock cannot tell which names exist or which two
// name one account. The account pair counts attempts on the account the
// name found, whichever name was typed: it holds the account (Held)
// silently, so that switching names buys no more password checks than
// the account allows.
//
// In each pair one counter is per client and one is for all clients. A
// client's count stops at PerClient (its attempts are then locked or
// held), so it adds at most PerClient to the all-clients count, and
// PerClient is below Total: one client alone can never lock a name or
// hold an account for the others.
//
// Keys are opaque caller data; a store keeps them out of its own key
// space (hashed, as for [Counters]).
type Attempt struct {
	// Group is where every counter below lives: the account's for a known
	// account, the name's for an unknown one. Required.
	Group string
	// Name and NameClient count attempts through the typed identifier, by
	// every client and by this one. Required.
	Name, NameClient string
	// Account and AccountClient count attempts on the account, by every
	// client and by this one; both empty when no account was found.
	Account, AccountClient string

	// PerClient is how many attempts one client may make within Window
	// before its next one is refused; at least 1.
	PerClient int
	// Total is how many attempts all clients together may make; above
	// PerClient.
	Total int
	// Window is how long a count lives from its first attempt; > 0.
	Window time.Duration
	// LockFor is the least time a count that reaches its limit is kept
	// from the attempt that reached it; ≥ 0.
	LockFor time.Duration
	// KnownDevice says the client proved a recent successful login on the
	// account: the all-clients counts neither lock nor hold it. Its own
	// per-client counts still do.
	KnownDevice bool
}

// AttemptResult is the outcome of [Attempts.CountAttempt].
type AttemptResult struct {
	// Locked: the name is locked for this client. Nothing was counted;
	// Until is when the lock ends.
	Locked bool
	Until  time.Time
	// Held: the account is held for this client. The name's counters were
	// counted (so that the name behaves as any other), the account's were
	// not, and the caller must not check the password: it answers as for
	// a wrong one.
	Held bool
	// NameCounted and AccountCounted say which pairs this attempt was
	// counted in.
	NameCounted, AccountCounted bool
}

// Attempts counts login attempts against lockout limits (see [Attempt]).
// Every method is atomic and safe for concurrent use; errors are for
// failures only, as for [Tokens].
type Attempts interface {
	// CountAttempt checks the locks that apply to a and, unless the name is
	// locked, counts it: the name's two counters always, the account's
	// two unless the account is held. A counter starts a Window at its
	// first attempt; the attempt that brings it to its limit keeps it at
	// least LockFor from then (later attempts do not move its end). The limits are read from the counts before
	// this attempt: the name is locked when NameClient has reached
	// PerClient or, unless KnownDevice, Name has reached Total; the
	// account is held likewise by AccountClient and Account.
	CountAttempt(ctx context.Context, a Attempt) (AttemptResult, error)

	// ForgiveAttempt is told that the client of a proved the password: it
	// takes the client's own counts (NameClient and AccountClient) back
	// off the all-clients counts (Name and Account, never below zero)
	// and deletes them. What other clients counted stays.
	ForgiveAttempt(ctx context.Context, a Attempt) error

	// UncountAttempt takes back what CountAttempt counted as r: one off
	// each counter r says was counted, never below zero. It is for a try
	// that never reached its check (shed for want of a hashing slot), so
	// that it costs nobody a try.
	UncountAttempt(ctx context.Context, a Attempt, r AttemptResult) error

	// ClearAttempts deletes every counter of the group: a password reset
	// starts the account afresh, whatever names were tried.
	ClearAttempts(ctx context.Context, group string) error
}

// CheckAttempt returns the caller mistake in an Attempt, if any. Stores
// call it first and change nothing when it fails.
func CheckAttempt(a Attempt) error {
	switch {
	case a.Group == "" || a.Name == "" || a.NameClient == "":
		return errors.New("store: attempt without a group, name or client name")
	case (a.Account == "") != (a.AccountClient == ""):
		return errors.New("store: attempt with only one of Account and AccountClient")
	case a.PerClient < 1 || a.Total <= a.PerClient:
		return fmt.Errorf("store: attempt limits %d per client, %d in all: want 1 ≤ per client < in all", a.PerClient, a.Total)
	case a.Window <= 0 || a.LockFor < 0 || a.Window > MaxRateSpan || a.LockFor > MaxRateSpan:
		return fmt.Errorf("store: attempt window %v, lock %v", a.Window, a.LockFor)
	}
	return nil
}
