package auth

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/store"
)

// Lockout sets how failed logins lock an account. Zero fields mean the
// defaults. MaxFailures may not exceed 100, the most NIST SP 800-63B
// §5.2.2 allows in a row. Counts start over with each Window, so the
// defaults let one account be guessed about 40 times an hour (960 a day)
// in all, and 20 an hour from one address: see docs/settings.md for
// stricter settings (a longer Window and Duration).
type Lockout struct {
	// MaxFailures is how many failed logins within Window lock the account
	// from every client; default 10.
	MaxFailures int
	// MaxFailuresPerClient is how many failed logins within Window lock the
	// account from one client address; default 5. Keep it at or below
	// MaxFailures: it stops one client early without letting it lock the
	// account for everybody.
	MaxFailuresPerClient int
	// Window is how long failures are counted; default 15 minutes.
	Window time.Duration
	// Duration is how long a lock lasts from the failure that set it;
	// default 15 minutes.
	Duration time.Duration
}

func (l Lockout) withDefaults() (Lockout, error) {
	if l.MaxFailures < 0 || l.MaxFailuresPerClient < 0 || l.Window < 0 || l.Duration < 0 {
		return l, errors.New("auth: negative Lockout setting")
	}
	if l.MaxFailures == 0 {
		l.MaxFailures = 10
	}
	if l.MaxFailuresPerClient == 0 {
		l.MaxFailuresPerClient = min(5, l.MaxFailures)
	}
	if l.Window == 0 {
		l.Window = 15 * time.Minute
	}
	if l.Duration == 0 {
		l.Duration = 15 * time.Minute
	}
	if l.MaxFailures > 100 {
		return l, errors.New("auth: Lockout.MaxFailures over 100 (NIST SP 800-63B §5.2.2)")
	}
	return l, nil
}

// attempt is one login attempt counted against the lockout limits.
//
// It is counted before the password is checked, not after, so that a burst
// of concurrent guesses cannot all be checked before the first failure is
// recorded: with a limit of 5, at most 5 of 200 concurrent attempts reach
// the hash. A right password clears the count.
type attempt struct {
	l        *Lockout
	counters store.Counters
	keys     [2]counterKeys // the account, then (account, client)
	n        [2]int64
}

type counterKeys struct {
	fails, lock string
	max         int64
}

// newAttempt names the counters of a login on the account from the client.
func (l *Lockout) newAttempt(c store.Counters, account string, client netip.Prefix) *attempt {
	a := &attempt{l: l, counters: c}
	a.keys[0] = counterKeys{"fail:" + account, "lock:" + account, int64(l.MaxFailures)}
	perClient := account + "\x00" + clientaddr.Key(client)
	a.keys[1] = counterKeys{"failc:" + perClient, "lockc:" + perClient, int64(l.MaxFailuresPerClient)}
	return a
}

// locked returns a *LockedError when the account, or the account from
// this client, is locked. It only reads.
func (a *attempt) locked(ctx context.Context) error {
	var until time.Time
	for _, k := range a.keys {
		lock, err := a.counters.Peek(ctx, k.lock)
		if err != nil {
			return err
		}
		if lock.N > 0 && lock.ResetAt.After(until) {
			until = lock.ResetAt
		}
	}
	if !until.IsZero() {
		return &LockedError{Until: until}
	}
	return nil
}

// begin counts the attempt, or returns a *LockedError (with no hashing to
// follow) when either limit is reached. Counting before the password is
// checked is what bounds concurrent guesses: the attempt past the limit
// is refused however many are in flight.
func (a *attempt) begin(ctx context.Context) error {
	if err := a.locked(ctx); err != nil {
		return err
	}
	var until time.Time
	for i, k := range a.keys {
		n, err := a.counters.Hit(ctx, k.fails, a.l.Window)
		if err != nil {
			return err
		}
		a.n[i] = n.N
	}
	// Attempts past a limit arrive while earlier ones are still being
	// checked: they set the lock (idempotent, its window is fixed by the
	// first hit) and report it, so every one of them reports the same Until.
	for i, k := range a.keys {
		if a.n[i] > k.max {
			lock, err := a.counters.Hit(ctx, k.lock, a.l.Duration)
			if err != nil {
				return err
			}
			if lock.ResetAt.After(until) {
				until = lock.ResetAt
			}
		}
	}
	if !until.IsZero() {
		return &LockedError{Until: until}
	}
	return nil
}

// failed records that the password was wrong: the failure that reaches a
// limit sets the lock.
func (a *attempt) failed(ctx context.Context) error {
	for i, k := range a.keys {
		if a.n[i] >= k.max {
			if _, err := a.counters.Hit(ctx, k.lock, a.l.Duration); err != nil {
				return err
			}
		}
	}
	return nil
}

// succeeded clears the failure counts of the account and the client.
func (a *attempt) succeeded(ctx context.Context) error {
	for _, k := range a.keys {
		if err := a.counters.Reset(ctx, k.fails); err != nil {
			return err
		}
	}
	return nil
}

// clear deletes the failure counts and the locks of the account and of the
// account from the client: a password reset starts the user afresh.
func (a *attempt) clear(ctx context.Context) error {
	for _, k := range a.keys {
		for _, key := range []string{k.fails, k.lock} {
			if err := a.counters.Reset(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}
