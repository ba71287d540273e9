package proof

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

var ctx = context.Background()

// accounts is a user table where "ada" and "ada@example.com" are one
// account.
type accounts struct{ hash []byte }

func (u accounts) FindUser(_ context.Context, login string) (auth.User, error) {
	if login == "ada" || login == "ada@example.com" {
		return auth.User{Subject: "1815", PasswordHash: u.hash, Active: true, EmailConfirmed: true}, nil
	}
	return auth.User{}, auth.ErrUnknownUser
}

type lib struct {
	a      *auth.Authenticator
	tokens *tokens.Manager
	store  store.Store
	clock  *fakeclock.Clock
	hasher *authtest.Hasher
}

// newLib is the library on store st (opened on clock), with the lockout
// of lo and bcrypt at its cheapest: these rows count comparisons, they do
// not time them.
func newLib(t testing.TB, open func(t *testing.T, now func() time.Time) store.Store, lo auth.Lockout) *lib {
	t.Helper()
	clock := fakeclock.New(time.Now().Truncate(time.Millisecond))
	st := open(t.(*testing.T), clock.Now)
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := &authtest.Hasher{Bcrypt: password.Bcrypt{Cost: 4}}
	hash, _ := h.Hash([]byte(rightPassword))
	h.Watch = hash // WatchCompares counts checks of the accounts' real password
	a, err := auth.New(auth.Config{Users: accounts{hash}, Tokens: tm, Counters: st, Hasher: h, Lockout: lo, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &lib{a: a, tokens: tm, store: st, clock: clock, hasher: h}
}

// race runs f in n goroutines released at once and returns the number of
// nil errors and the distinct non-nil error texts.
func race(n int, f func() error) (wins int, failures map[string]int) {
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		ok    atomic.Int64
	)
	failures = map[string]int{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := f(); err != nil {
				mu.Lock()
				failures[err.Error()]++
				mu.Unlock()
				return
			}
			ok.Add(1)
		}()
	}
	close(start)
	wg.Wait()
	return int(ok.Load()), failures
}

// TestRow01OneTimeTokensUnderRace: 1000 goroutines released together
// redeem one login link, and one verification pair: exactly one wins and
// the 999 others get one and the same error. Twenty rounds, every store.
func TestRow01OneTimeTokensUnderRace(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 2
	}
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			l := newLib(t, sf.Open, auth.Lockout{})
			for round := range rounds {
				link, err := l.a.IssueLoginLink(ctx, "1815", "p1")
				if err != nil {
					t.Fatal(err)
				}
				wins, fails := race(1000, func() error {
					_, err := l.a.RedeemLoginLink(ctx, link.Token)
					return err
				})
				check(t, fmt.Sprintf("round %d: login link", round), wins, fails)

				v, err := l.a.IssueVerification(ctx, "1815")
				if err != nil {
					t.Fatal(err)
				}
				wins, fails = race(1000, func() error {
					_, err := l.a.RedeemVerification(ctx, v.ID, v.Value)
					return err
				})
				check(t, fmt.Sprintf("round %d: verification", round), wins, fails)
			}
		})
	}
}

func check(t *testing.T, what string, wins int, fails map[string]int) {
	t.Helper()
	if wins != 1 || len(fails) != 1 {
		t.Fatalf("%s: %d successes and failures %v; want 1 success and 999 identical failures", what, wins, fails)
	}
	for msg, n := range fails {
		if n != 999 {
			t.Fatalf("%s: %d failures %q, want 999", what, n, msg)
		}
	}
}

// TestRow04ConcurrentGuessesAreBounded: 200 concurrent wrong passwords
// against an account limited to 5 failures, split across its username,
// its email and the email differently cased and padded, each from its own
// client address: at most 5 checks of the real password, on every store
// (held attempts compare against a dummy, at the same cost).
func TestRow04ConcurrentGuessesAreBounded(t *testing.T) {
	names := []string{"ada", "ada@example.com", " ADA@Example.COM "}
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			l := newLib(t, sf.Open, auth.Lockout{MaxFailures: 5, MaxFailuresPerClient: 4})
			var i atomic.Int64
			wins, fails := race(200, func() error {
				n := i.Add(1)
				_, err := l.a.Login(ctx, auth.Credentials{
					Login: names[n%3], Password: "wrong", Client: netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(n % 250)}), 32),
				}, "")
				var locked *auth.LockedError
				if errors.Is(err, auth.ErrInvalidCredentials) || errors.As(err, &locked) || errors.Is(err, password.ErrBusy) {
					return err
				}
				return fmt.Errorf("unexpected: %w", err)
			})
			if wins != 0 {
				t.Fatalf("%d wrong passwords were accepted", wins)
			}
			for msg := range fails {
				if len(msg) > 11 && msg[:11] == "unexpected:" {
					t.Fatalf("answer %q", msg)
				}
			}
			if n := l.hasher.WatchCompares.Load(); n > 5 {
				t.Fatalf("%d checks of the real password for 200 concurrent guesses with a limit of 5", n)
			}
		})
	}
}
