package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/store"
)

// Lockout sets how failed logins lock an account. Zero fields mean the
// defaults.
//
// Attempts are counted through the name the client typed and on the
// account it found, each per client and for all clients (see
// store.Attempt):
//   - a client that reaches MaxFailuresPerClient through a name is locked
//     out of that name (403 locked) for Duration;
//   - a name tried MaxFailures times in all is locked for every client,
//     but a known device (one that logged in to the account before);
//   - past either limit on the account itself, through any of its names,
//     a client's attempts are held: answered as a wrong password, after
//     the same hashing time, without checking the password. So switching
//     from the username to the email address buys no more guesses, and
//     the answer does not tell that both name one account.
//
// One client's failures count at most MaxFailuresPerClient toward the
// all-clients limit, which New keeps above it: one client alone can never
// lock an account for the others. A right password ends only its own
// client's counts, never the failures others built.
//
// MaxFailures may not exceed 100, the most NIST SP 800-63B §5.2.2 allows
// in a row. Counts start over with each Window, so the defaults let one
// account be guessed about 40 times an hour (960 a day) in all, and 20 an
// hour from one address: see docs/settings.md for stricter settings.
type Lockout struct {
	// MaxFailures is how many failed logins within Window, from at least
	// two clients, lock a name (and hold the account) for every client
	// but known devices; default 10, at least 2.
	MaxFailures int
	// MaxFailuresPerClient is how many failed logins within Window lock a
	// name, and hold the account, for one client; default
	// min(5, MaxFailures-1). It must be below MaxFailures.
	MaxFailuresPerClient int
	// Window is how long failures are counted; default 15 minutes.
	Window time.Duration
	// Duration is the least time a lock lasts from the failure that set
	// it; default 15 minutes.
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
		l.MaxFailuresPerClient = min(5, l.MaxFailures-1)
	}
	if l.Window == 0 {
		l.Window = 15 * time.Minute
	}
	if l.Duration == 0 {
		l.Duration = 15 * time.Minute
	}
	switch {
	case l.MaxFailures > 100:
		return l, errors.New("auth: Lockout.MaxFailures over 100 (NIST SP 800-63B §5.2.2)")
	case l.MaxFailures < 2:
		return l, errors.New("auth: Lockout.MaxFailures below 2: one client could lock an account for everyone")
	case l.MaxFailuresPerClient >= l.MaxFailures:
		return l, fmt.Errorf("auth: Lockout.MaxFailuresPerClient %d is not below MaxFailures %d: one client could lock an account for everyone",
			l.MaxFailuresPerClient, l.MaxFailures)
	case l.Window > store.MaxRateSpan || l.Duration > store.MaxRateSpan:
		return l, fmt.Errorf("auth: Lockout.Window or Duration over %v", store.MaxRateSpan)
	}
	return l, nil
}

// attempt is one login attempt, counted against the lockout limits in
// one store call before the password is checked, so that a burst of
// concurrent guesses cannot all be checked before the first is counted:
// with a limit of 10, at most 10 of 200 concurrent attempts reach the
// hash.
type attempt struct {
	store store.Attempts
	spec  store.Attempt
	res   store.AttemptResult
}

// newAttempt names the counters of a login through login (normalised)
// from client, on the account of subject ("" when no account was found).
// device is the id of the known-device proof the client showed, or "":
// a known device is counted as a client of its own, wherever it logs in
// from, so a stolen proof buys MaxFailuresPerClient guesses in all, not
// as many per address, and strangers behind the owner's address do not
// lock the owner's device.
func (l *Lockout) newAttempt(st store.Attempts, login, subject string, client netip.Prefix, device string) *attempt {
	c := "\x00" + clientaddr.Key(client)
	if device != "" {
		c = "\x00device:" + device
	}
	spec := store.Attempt{
		Group: "n:" + login, Name: "n:" + login, NameClient: "n:" + login + c,
		PerClient: l.MaxFailuresPerClient, Total: l.MaxFailures,
		Window: l.Window, LockFor: l.Duration, KnownDevice: device != "",
	}
	if subject != "" {
		spec.Group = accountGroup(subject)
		spec.Account, spec.AccountClient = "s:"+subject, "s:"+subject+c
	}
	return &attempt{store: st, spec: spec}
}

// accountGroup is where every attempt counter of the subject's account
// lives, whatever name was typed: ClearAttempts ends them all at once.
func accountGroup(subject string) string { return "s:" + subject }

// count checks the locks and counts the attempt: a *LockedError when the
// name is locked for this client (nothing counted, no hash to follow).
// held then reports that the account is held for this client: the
// password must not be checked.
func (a *attempt) count(ctx context.Context) (held bool, err error) {
	a.res, err = a.store.CountAttempt(ctx, a.spec)
	switch {
	case err != nil:
		return false, err
	case a.res.Locked:
		return false, &LockedError{Until: a.res.Until}
	}
	return a.res.Held, nil
}

// uncount takes the attempt back: it was shed before its check. It runs
// even when ctx has ended (a shed for a cancelled request is one too).
func (a *attempt) uncount(ctx context.Context) error {
	return a.store.UncountAttempt(context.WithoutCancel(ctx), a.spec, a.res)
}

// succeeded ends this client's counts, taking them back off the
// all-clients counts; what other clients counted stays.
func (a *attempt) succeeded(ctx context.Context) error {
	return a.store.ForgiveAttempt(ctx, a.spec)
}
