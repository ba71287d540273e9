package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

var ctx = context.Background()

type users struct {
	mu      sync.Mutex
	byLogin map[string]*auth.User
	updated map[string][]byte
}

func (u *users) FindUser(_ context.Context, login string) (auth.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if usr, ok := u.byLogin[login]; ok {
		return *usr, nil
	}
	return auth.User{}, auth.ErrUnknownUser
}

func (u *users) FindSubject(_ context.Context, subject string) (auth.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, usr := range u.byLogin {
		if usr.Subject == subject {
			return *usr, nil
		}
	}
	return auth.User{}, auth.ErrUnknownUser
}

func (u *users) UpdatePasswordHash(_ context.Context, subject string, hash []byte) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.updated[subject] = hash
	return nil
}

const rightPassword = "john_doe_secret"

type fixture struct {
	a      *auth.Authenticator
	clock  *fakeclock.Clock
	store  *storefault.Store
	hasher *authtest.Hasher
	tokens *tokens.Manager
	users  *users
}

func newFixture(t testing.TB, cfg auth.Config) *fixture {
	t.Helper()
	env := testfix.New(t, tokens.Config{})
	clock, st, tm := env.Clock, env.Store, env.Tokens
	h := &authtest.Hasher{Bcrypt: password.Bcrypt{Cost: 4}}
	hash, _ := h.Bcrypt.Hash([]byte(rightPassword))
	john := &auth.User{Subject: "341", PasswordHash: hash, Active: true, EmailConfirmed: true}
	us := &users{updated: map[string][]byte{}, byLogin: map[string]*auth.User{
		"john_doe":            john,
		"john_doe@domain.com": john,
		"inactive_user":       {Subject: "342", PasswordHash: hash, EmailConfirmed: true},
		"unconfirmed_user":    {Subject: "343", PasswordHash: hash, Active: true},
	}}
	cfg.Users, cfg.Tokens, cfg.Counters, cfg.Now = us, tm, st, clock.Now
	if cfg.Hasher == nil {
		cfg.Hasher = h
	}
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.Hashes.Store(0) // the dummy hash made by New
	return &fixture{a: a, clock: clock, store: st, hasher: h, tokens: tm, users: us}
}

func (f *fixture) login(login, pw string) (auth.Session, error) {
	return f.a.Login(ctx, auth.Credentials{Login: login, Password: pw, Client: netip.MustParsePrefix("192.0.2.1/32")}, "")
}

func TestNewRejectsBadConfig(t *testing.T) {
	f := newFixture(t, auth.Config{})
	good := auth.Config{Users: f.users, Tokens: f.tokens, Counters: f.store}
	for name, mutate := range map[string]func(*auth.Config){
		"no users":                func(c *auth.Config) { c.Users = nil },
		"no tokens":               func(c *auth.Config) { c.Tokens = nil },
		"no counters":             func(c *auth.Config) { c.Counters = nil },
		"cost below 10":           func(c *auth.Config) { c.BcryptCost = 9 },
		"hasher and cost":         func(c *auth.Config) { c.Hasher = f.hasher; c.BcryptCost = 12 },
		"over NIST's 100":         func(c *auth.Config) { c.Lockout.MaxFailures = 101 },
		"negative window":         func(c *auth.Config) { c.Lockout.Window = -time.Second },
		"negative concurrency":    func(c *auth.Config) { c.MaxConcurrentHashes = -1 },
		"counters keep no limits": func(c *auth.Config) { c.Counters = countersOnly{c.Counters} },
	} {
		cfg := good
		cfg.Hasher = f.hasher
		mutate(&cfg)
		if _, err := auth.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoginIssuesANewSessionEachTime(t *testing.T) {
	f := newFixture(t, auth.Config{})
	s1, err := f.login("john_doe", rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := f.login("john_doe", rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Token == s2.Token {
		t.Fatal("two logins share a token")
	}
	rec, err := f.tokens.Validate(ctx, store.KindSession, s2.Token)
	if err != nil || rec.Subject != "341" {
		t.Fatalf("Validate = %+v, %v", rec, err)
	}
}

func TestUnknownUserAndWrongPasswordAnswerAlike(t *testing.T) {
	f := newFixture(t, auth.Config{})
	_, errUnknown := f.login("nobody", rightPassword)
	n1 := f.hasher.Compares.Load()
	_, errWrong := f.login("john_doe", "wrong")
	n2 := f.hasher.Compares.Load() - n1
	if !errors.Is(errUnknown, auth.ErrInvalidCredentials) || errUnknown != errWrong {
		t.Fatalf("unknown user: %v; wrong password: %v; want the same ErrInvalidCredentials", errUnknown, errWrong)
	}
	if n1 != 1 || n2 != 1 {
		t.Fatalf("compares: unknown user %d, wrong password %d; want 1 each", n1, n2)
	}
}

// TestAccountsWithoutAUsableHashAnswerLikeUnknownUsers: an account whose
// PasswordHash is empty (SSO only, invited) or not a hash the hasher reads
// costs one real comparison, against the dummy hash, and answers
// ErrInvalidCredentials, as an unknown user and a wrong password do;
// comparing against its own hash would fail at once and tell it apart by
// time. With RevealUnknownUsers it is still not "unknown": the account
// exists.
func TestAccountsWithoutAUsableHashAnswerLikeUnknownUsers(t *testing.T) {
	for _, reveal := range []bool{false, true} {
		f := newFixture(t, auth.Config{RevealUnknownUsers: reveal})
		good, _ := f.hasher.Bcrypt.Hash([]byte(rightPassword))
		f.users.byLogin["sso_only"] = &auth.User{Subject: "350", Active: true, EmailConfirmed: true}
		f.users.byLogin["garbage_hash"] = &auth.User{Subject: "351", PasswordHash: []byte("not a hash"), Active: true, EmailConfirmed: true}
		f.users.byLogin["bad_salt"] = &auth.User{Subject: "352", PasswordHash: append([]byte("$2a$04$!!"), good[9:]...), Active: true, EmailConfirmed: true}
		f.users.byLogin["argon2"] = &auth.User{Subject: "353", PasswordHash: []byte("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"), Active: true, EmailConfirmed: true}
		for _, login := range []string{"nobody", "john_doe", "sso_only", "garbage_hash", "bad_salt", "argon2"} {
			for _, pw := range []string{rightPassword, "wrong"} {
				if login == "john_doe" && pw == rightPassword {
					continue
				}
				compares, unread := f.hasher.Compares.Load(), f.hasher.Unread.Load()
				_, err := f.login(login, pw)
				compares, unread = f.hasher.Compares.Load()-compares, f.hasher.Unread.Load()-unread
				want := auth.ErrInvalidCredentials
				if reveal && login == "nobody" {
					want = auth.ErrUnknownUser
				}
				if err != want {
					t.Errorf("reveal %v, %s / %s: %v, want %v", reveal, login, pw, err, want)
				}
				if compares != 1 || unread != 0 {
					t.Errorf("reveal %v, %s / %s: %d comparisons, %d of them against a hash bcrypt cannot read; want 1 real one",
						reveal, login, pw, compares, unread)
				}
			}
		}
	}
}

func TestRevealUnknownUsers(t *testing.T) {
	f := newFixture(t, auth.Config{RevealUnknownUsers: true})
	if _, err := f.login("nobody", rightPassword); !errors.Is(err, auth.ErrUnknownUser) {
		t.Fatalf("got %v, want ErrUnknownUser", err)
	}
	if _, err := f.login("john_doe", "wrong"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestStatusIsReportedOnlyForTheRightPassword(t *testing.T) {
	f := newFixture(t, auth.Config{})
	for _, tc := range []struct {
		login, pw string
		want      error
	}{
		{"inactive_user", "wrong", auth.ErrInvalidCredentials},
		{"inactive_user", rightPassword, auth.ErrInactive},
		{"unconfirmed_user", "wrong", auth.ErrInvalidCredentials},
		{"unconfirmed_user", rightPassword, auth.ErrUnconfirmed},
	} {
		if _, err := f.login(tc.login, tc.pw); !errors.Is(err, tc.want) {
			t.Errorf("%s / %s: %v, want %v", tc.login, tc.pw, err, tc.want)
		}
	}
	allow := newFixture(t, auth.Config{AllowUnconfirmed: true})
	s, err := allow.login("unconfirmed_user", rightPassword)
	if err != nil || !s.Unconfirmed {
		t.Fatalf("AllowUnconfirmed: %+v, %v; want a session reporting Unconfirmed", s, err)
	}
}

// TestHideUnconfirmed: a right password of an unconfirmed account is
// answered and counted as a wrong one, so its failures lock it as an
// account of someone else's would; a confirmed account is unaffected.
func TestHideUnconfirmed(t *testing.T) {
	if _, err := auth.New(auth.Config{HideUnconfirmed: true, AllowUnconfirmed: true}); err == nil {
		t.Fatal("New took HideUnconfirmed with AllowUnconfirmed")
	}
	f := newFixture(t, auth.Config{HideUnconfirmed: true, Lockout: auth.Lockout{MaxFailures: 3, MaxFailuresPerClient: 2}})
	if !f.a.HidesUnconfirmed() {
		t.Fatal("HidesUnconfirmed is false")
	}
	for i := 1; i <= 2; i++ {
		if _, err := f.login("unconfirmed_user", rightPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("right password, unconfirmed, try %d: %v, want ErrInvalidCredentials", i, err)
		}
	}
	var locked *auth.LockedError
	if _, err := f.login("unconfirmed_user", rightPassword); !errors.As(err, &locked) {
		t.Fatalf("third try: %v, want locked like any account after 2 failures", err)
	}
	if _, err := f.login("john_doe", rightPassword); err != nil {
		t.Fatalf("a confirmed account: %v", err)
	}
}

// from logs in to john_doe's account through login from client.
func (f *fixture) from(client, login, pw string) error {
	_, err := f.a.Login(ctx, auth.Credentials{Login: login, Password: pw, Client: netip.MustParsePrefix(client + "/32")}, "")
	return err
}

func TestLockoutBoundaryAndUnlock(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 6, MaxFailuresPerClient: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute}})
	for i := 1; i <= 5; i++ {
		if _, err := f.login("john_doe", "wrong"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v, want ErrInvalidCredentials", i, err)
		}
	}
	_, err := f.login("john_doe", rightPassword)
	var locked *auth.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("attempt 6 with the right password: %v, want *LockedError", err)
	}
	if want := f.clock.Now().Add(15 * time.Minute); !locked.Until.Equal(want) {
		t.Errorf("Until = %v, want %v", locked.Until, want)
	}
	if n := f.hasher.Compares.Load(); n != 5 {
		t.Errorf("%d compares, want 5 (none while locked)", n)
	}
	f.clock.Advance(15*time.Minute - time.Second)
	if _, err := f.login("john_doe", rightPassword); !errors.As(err, &locked) {
		t.Fatalf("a second before unlock: %v", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.login("john_doe", rightPassword); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestLockedAnswersRightAndWrongPasswordAlike(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 4, MaxFailuresPerClient: 3}})
	for range 3 {
		f.login("john_doe", "wrong")
	}
	before := f.hasher.Compares.Load()
	_, right := f.login("john_doe", rightPassword)
	_, wrong := f.login("john_doe", "wrong")
	if right == nil || right.Error() != wrong.Error() || problem.Of(right).Code != "locked" {
		t.Fatalf("locked: right password %v, wrong password %v; want the same locked error", right, wrong)
	}
	if n := f.hasher.Compares.Load() - before; n != 0 {
		t.Fatalf("%d compares while locked, want 0", n)
	}
}

// TestSwitchingNamesBuysNoChecks is attack 3 of issue 14: a client that
// has used up its attempts through the username gets, through the email
// address of the same account, the answers any other name would give
// (invalid_credentials, then locked at the same count), but its password
// is no longer checked, not even the right one.
func TestSwitchingNamesBuysNoChecks(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 10, MaxFailuresPerClient: 4}})
	for range 4 {
		f.from("192.0.2.1", "john_doe", "wrong")
	}
	var locked *auth.LockedError
	if err := f.from("192.0.2.1", "john_doe", "wrong"); !errors.As(err, &locked) {
		t.Fatalf("5th through the username: %v, want locked", err)
	}
	// The email address of the account, and a name of nobody, answer alike.
	for _, login := range []string{"john_doe@domain.com", "nobody@domain.com"} {
		for i := range 4 {
			checks := f.hasher.Compares.Load()
			pw := "wrong"
			if i == 0 {
				pw = rightPassword
			}
			if err := f.from("192.0.2.1", login, pw); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("%s, attempt %d: %v, want ErrInvalidCredentials as for any name", login, i+1, err)
			}
			if n := f.hasher.Compares.Load() - checks; n != 1 {
				t.Fatalf("%s, attempt %d: %d compares, want 1 (a dummy one when held)", login, i+1, n)
			}
		}
		if err := f.from("192.0.2.1", login, "wrong"); !errors.As(err, &locked) {
			t.Fatalf("%s, 5th: %v, want locked as for any name", login, err)
		}
	}
	if n := f.hasher.Unread.Load(); n != 0 {
		t.Fatalf("%d compares against hashes bcrypt cannot read", n)
	}
}

// TestOneClientCannotLockOthersOut is attack 4 of issue 14: however many
// times one client fails, the owner logs in from another client; the
// account-wide lock takes failures from more than one client.
func TestOneClientCannotLockOthersOut(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 5}})
	for range 20 {
		f.from("192.0.2.66", "john_doe", "wrong")
	}
	if err := f.from("203.0.113.9", "john_doe", rightPassword); err != nil {
		t.Fatalf("owner after one client's flood of failures: %v, want logged in", err)
	}
	f.from("192.0.2.67", "john_doe", "wrong") // a second client: 5 in all
	var locked *auth.LockedError
	if err := f.from("203.0.113.10", "john_doe", rightPassword); !errors.As(err, &locked) {
		t.Fatalf("after failures from two clients: %v, want locked", err)
	}
}

// TestNewRefusesOneClientLockingAll: a per-client limit at or above the
// account limit would let one client lock the account for everyone.
func TestNewRefusesOneClientLockingAll(t *testing.T) {
	f := newFixture(t, auth.Config{})
	for _, l := range []auth.Lockout{{MaxFailures: 5, MaxFailuresPerClient: 5}, {MaxFailures: 3, MaxFailuresPerClient: 7}, {MaxFailures: 1}} {
		_, err := auth.New(auth.Config{Users: f.users, Tokens: f.tokens, Counters: f.store, Hasher: f.hasher, Lockout: l})
		if err == nil {
			t.Errorf("New accepted %+v", l)
		}
	}
}

func TestUnknownLoginsLockLikeKnownOnes(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 4, MaxFailuresPerClient: 3}})
	for range 3 {
		f.login("nobody", "wrong")
	}
	var locked *auth.LockedError
	if _, err := f.login("nobody", "wrong"); !errors.As(err, &locked) {
		t.Fatalf("unknown login never locks (%v): that tells which accounts exist", err)
	}
}

// TestSuccessEndsOnlyItsOwnClientsCount is attack 6 of issue 14: the
// owner's logins between an attacker's guesses do not give the attacker
// new guesses. Before, each success reset the account's count: 90 wrong
// guesses went by without a lock.
func TestSuccessEndsOnlyItsOwnClientsCount(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 10, MaxFailuresPerClient: 5}})
	guesses := 0
	for round := range 30 {
		for i := range 3 {
			if err := f.from(fmt.Sprintf("198.51.100.%d", round*3+i), "john_doe", "wrong"); errors.Is(err, auth.ErrInvalidCredentials) {
				guesses++
			}
		}
		f.from("203.0.113.9", "john_doe", rightPassword)
	}
	if guesses != 10 {
		t.Fatalf("%d wrong guesses checked between the owner's logins, want 10 (the account limit)", guesses)
	}
	// The owner's own failures end with its success.
	g := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 10, MaxFailuresPerClient: 3}})
	for round := range 5 {
		for range 2 {
			g.login("john_doe", "wrong")
		}
		if _, err := g.login("john_doe", rightPassword); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// TestKnownDeviceIsNotLockedOut: a client that logged in to the account
// before keeps logging in while other clients have locked the name and
// held the account; its own failures still lock it; a proof for another
// account, an expired or a forged one, proves nothing.
func TestKnownDeviceIsNotLockedOut(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 4, MaxFailuresPerClient: 2}})
	owner := netip.MustParsePrefix("203.0.113.9/32")
	s, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: owner}, "")
	if err != nil || !strings.HasPrefix(s.KnownDevice, "kd1.") {
		t.Fatalf("login: %+v, %v; want a known-device proof", s, err)
	}
	f.users.byLogin["jane"] = &auth.User{Subject: "344", PasswordHash: f.users.byLogin["john_doe"].PasswordHash, Active: true, EmailConfirmed: true}
	jane, err := f.a.Login(ctx, auth.Credentials{Login: "jane", Password: rightPassword, Client: owner}, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		f.from(fmt.Sprint("198.51.100.", i/2), "john_doe", "wrong")
	}
	var locked *auth.LockedError
	if err := f.from("192.0.2.200", "john_doe", rightPassword); !errors.As(err, &locked) {
		t.Fatalf("a new client after 4 failures from two: %v, want locked", err)
	}
	login := func(proof, pw string) error {
		_, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: pw, Client: owner, KnownDevice: proof}, "")
		return err
	}
	for name, proof := range map[string]string{
		"none":                "",
		"forged":              "kd1." + strings.Repeat("A", 32),
		"junk":                "kd1.!!",
		"of another account":  jane.KnownDevice,
		"one character wrong": s.KnownDevice[:len(s.KnownDevice)-1] + string(s.KnownDevice[len(s.KnownDevice)-1]^1),
	} {
		if err := login(proof, rightPassword); !errors.As(err, &locked) {
			t.Errorf("%s proof: %v, want locked", name, err)
		}
	}
	if err := login(s.KnownDevice, rightPassword); err != nil {
		t.Fatalf("known device: %v, want logged in", err)
	}
	// Its own failures still count against it.
	for range 2 {
		login(s.KnownDevice, "wrong")
	}
	if err := login(s.KnownDevice, rightPassword); !errors.As(err, &locked) {
		t.Fatalf("known device past its own limit: %v, want locked", err)
	}
	// A proof lasts KnownDeviceTTL.
	f.clock.Advance(auth.KnownDeviceTTL)
	for i := range 4 {
		f.from(fmt.Sprint("198.51.100.", 10+i/2), "john_doe", "wrong")
	}
	if err := login(s.KnownDevice, rightPassword); !errors.As(err, &locked) {
		t.Fatalf("a proof %v old: %v, want locked", auth.KnownDeviceTTL, err)
	}
}

func TestConcurrentWrongPasswordsAreBounded(t *testing.T) {
	// The lockout's own bound: without rate limits, which would refuse
	// most of these before the lockout saw them. 200 clients at once,
	// through three names of one account: no more checks of the real
	// hash than the account limit.
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 5}, MaxConcurrentHashes: 200, HashWait: time.Minute, NoRateLimits: true})
	start := make(chan struct{})
	var wg sync.WaitGroup
	f.hasher.Watch = f.users.byLogin["john_doe"].PasswordHash
	for i := range 200 {
		wg.Go(func() {
			<-start
			login := []string{"john_doe", "john_doe@domain.com", " JOHN_DOE@Domain.COM"}[i%3]
			client := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(i % 250)}), 32)
			_, err := f.a.Login(ctx, auth.Credentials{Login: login, Password: "wrong", Client: client}, "")
			var locked *auth.LockedError
			if !errors.Is(err, auth.ErrInvalidCredentials) && !errors.As(err, &locked) {
				t.Errorf("unexpected %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := f.hasher.WatchCompares.Load(); n > 5 {
		t.Fatalf("%d checks of the real hash for 200 concurrent wrong passwords with a limit of 5", n)
	}
}

func TestPasswordLimits(t *testing.T) {
	f := newFixture(t, auth.Config{})
	for _, tc := range []struct {
		name, login, pw string
		want            string
	}{
		{"73 bytes", "john_doe", strings.Repeat("a", 73), "password_too_long"},
		{"no password", "john_doe", "", "missing_field"},
		{"no login", "  ", rightPassword, "missing_field"},
		{"huge login", strings.Repeat("a", 1000), rightPassword, "invalid_field"},
	} {
		_, err := f.login(tc.login, tc.pw)
		if got := problem.Of(err); got.Code != tc.want || got.Status != 400 {
			t.Errorf("%s: %d %s (%v), want 400 %s", tc.name, got.Status, got.Code, err, tc.want)
		}
	}
	if n := f.hasher.Compares.Load(); n != 0 {
		t.Errorf("%d compares for refused input, want 0", n)
	}
	if _, err := password.Hash(strings.Repeat("a", 73), 10); !errors.Is(err, password.ErrTooLong) {
		t.Errorf("HashPassword of 73 bytes: %v", err)
	}
	// Exactly 72 bytes is checked like any password.
	if _, err := f.login("john_doe", strings.Repeat("a", 72)); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("72 bytes: %v", err)
	}
}

func TestHashingIsBounded(t *testing.T) {
	f := newFixture(t, auth.Config{MaxConcurrentHashes: 1, HashWait: 20 * time.Millisecond})
	f.hasher.Block = make(chan struct{})
	first := make(chan error)
	go func() { _, err := f.login("john_doe", rightPassword); first <- err }()
	for f.hasher.Compares.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	_, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: netip.MustParsePrefix("192.0.2.2/32")}, "")
	if !errors.Is(err, password.ErrBusy) || problem.Of(err).Status != 503 {
		t.Fatalf("login while the only slot is busy: %v, want ErrBusy (503)", err)
	}
	close(f.hasher.Block)
	if err := <-first; err != nil {
		t.Fatalf("first login: %v", err)
	}
}

func TestRehashOnLogin(t *testing.T) {
	h := &authtest.Hasher{Bcrypt: password.Bcrypt{Cost: 5}}
	f := newFixture(t, auth.Config{Hasher: h})
	if _, err := f.login("john_doe", rightPassword); err != nil {
		t.Fatal(err)
	}
	hash := f.users.updated["341"]
	if hash == nil {
		t.Fatal("a cost-4 hash was not upgraded to the configured cost 5")
	}
	if h.NeedsRehash(hash) || h.Compare(hash, []byte(rightPassword)) != nil {
		t.Fatal("the upgraded hash is wrong")
	}
}

func TestStoreDownFailsClosed(t *testing.T) {
	f := newFixture(t, auth.Config{})
	f.store.SetDown(true)
	_, err := f.login("john_doe", rightPassword)
	if !errors.Is(err, store.ErrUnavailable) || problem.Of(err).Code != "store_unavailable" {
		t.Fatalf("login with the store down: %v, want store_unavailable", err)
	}
	if n := f.hasher.Compares.Load(); n != 0 {
		t.Fatalf("%d compares with the counter store down, want 0", n)
	}
	f.store.SetDown(false)
	if _, err := f.login("john_doe", rightPassword); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestLogoutEverywhere(t *testing.T) {
	f := newFixture(t, auth.Config{})
	s1, _ := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword}, "A")
	s2, _ := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword}, "B")
	if err := f.a.Logout(ctx, s1.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tokens.Validate(ctx, store.KindSession, s2.Token); err != nil {
		t.Fatalf("logout of A ended B: %v", err)
	}
	if n, err := f.a.LogoutEverywhere(ctx, "341"); err != nil || n != 1 {
		t.Fatalf("LogoutEverywhere = %d, %v; want 1", n, err)
	}
	if _, err := f.tokens.Validate(ctx, store.KindSession, s2.Token); err == nil {
		t.Fatal("session survived LogoutEverywhere")
	}
}

// TestBusyLoginsDoNotCount: logins turned away busy in a flood never ran
// a comparison: they are counted before they queue and taken back when
// shed, so a flood that is shed busy locks out nobody, not even its own
// client, and the owner retrying through it keeps its tries.
func TestBusyLoginsDoNotCount(t *testing.T) {
	f := newFixture(t, auth.Config{MaxConcurrentHashes: 1, HashWait: 5 * time.Millisecond,
		Lockout: auth.Lockout{MaxFailures: 3, MaxFailuresPerClient: 2}})
	f.hasher.Block = make(chan struct{})
	first := make(chan error)
	go func() { first <- f.from("192.0.2.9", "john_doe", "wrong") }()
	for f.hasher.Compares.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := range 10 {
		if err := f.from("192.0.2.1", "john_doe", "wrong"); !errors.Is(err, password.ErrBusy) {
			t.Fatalf("login %d while the slot is taken: %v, want ErrBusy", i, err)
		}
	}
	close(f.hasher.Block)
	if err := <-first; !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("first login: %v", err)
	}
	if err := f.from("192.0.2.1", "john_doe", rightPassword); err != nil {
		t.Fatalf("after 10 busy refusals the same client's right password gets %v", err)
	}
}

// TestDefaultLockout pins the documented defaults: 5 failures from one
// client lock the account for that client, 10 from anywhere lock it for
// all, for 15 minutes.
func TestDefaultLockout(t *testing.T) {
	f := newFixture(t, auth.Config{})
	from := func(client, pw string) error {
		_, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: pw, Client: netip.MustParsePrefix(client + "/32")}, "")
		return err
	}
	var locked *auth.LockedError
	for i := range 5 {
		if err := from("192.0.2.1", "wrong"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d from one client: %v", i+1, err)
		}
	}
	if err := from("192.0.2.1", rightPassword); !errors.As(err, &locked) {
		t.Fatalf("6th attempt from that client: %v, want locked", err)
	}
	for i := range 5 {
		if err := from(fmt.Sprint("198.51.100.", i), "wrong"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d of the account, from another client: %v", 6+i, err)
		}
	}
	if err := from("203.0.113.9", rightPassword); !errors.As(err, &locked) {
		t.Fatalf("11th attempt, from a fresh client: %v, want locked", err)
	}
	if want := f.clock.Now().Add(15 * time.Minute); !locked.Until.Equal(want) {
		t.Errorf("locked until %v, want %v (15 minutes)", locked.Until, want)
	}
	f.clock.Advance(15 * time.Minute)
	if err := from("203.0.113.9", rightPassword); err != nil {
		t.Errorf("after 15 minutes: %v", err)
	}
}

// countersOnly hides every method of a store but those of store.Counters,
// as an app's wrapper might: auth.New must not lose the login rate limit
// without a word (found by a review).
type countersOnly struct{ store.Counters }

// TestCopiedProofBuysNoGuesses: a known-device proof is a
// bearer value that is counted per client ADDRESS, not per proof. An
// attacker who holds one proof of the account (an old login of theirs
// before the owner reset the password, a shared computer, a leaked
// cookie) presents it from many addresses: each address gets
// MaxFailuresPerClient checks of the real password, and the account-wide
// limit (MaxFailures), the only bound on distributed guessing, never
// applies. The proof also survives LogoutEverywhere and a password change.
func TestCopiedProofBuysNoGuesses(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 10, MaxFailuresPerClient: 5}, NoRateLimits: true})
	f.hasher.Watch = f.users.byLogin["john_doe"].PasswordHash
	s, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: netip.MustParsePrefix("203.0.113.9/32")}, "")
	if err != nil {
		t.Fatal(err)
	}
	proof := s.KnownDevice
	// The owner notices, logs out everywhere and changes the password.
	if _, err := f.a.LogoutEverywhere(ctx, "341"); err != nil {
		t.Fatal(err)
	}
	newHash, _ := f.hasher.Bcrypt.Hash([]byte("a brand new password"))
	f.users.mu.Lock()
	f.users.byLogin["john_doe"].PasswordHash = newHash
	f.users.mu.Unlock()
	f.hasher.Watch = newHash
	checks := f.hasher.WatchCompares.Load()
	for i := range 40 { // 40 addresses: one IPv6 /58 has 64 /64s
		client := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, byte(i)}), 64)
		for range 5 {
			f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: "guess", Client: client, KnownDevice: proof}, "")
		}
	}
	if n := f.hasher.WatchCompares.Load() - checks; n > 10 {
		t.Errorf("a proof issued before LogoutEverywhere and a password change, replayed from 40 /64s: %d checks of the NEW password in one window, want at most MaxFailures = 10", n)
	}
}

// TestKnownDeviceDoesNotRenewTheLock: a known device's attempts are
// counted in the all-clients counts past their limit, and every count at
// or past a limit is pushed to now+LockFor. So each login of the owner's
// known device (even a successful one: ForgiveAttempt takes back only
// its own 1) renews the lock the attacker set: the owner's other devices
// (a new phone, a new browser) stay locked out for as long as the owner
// keeps using a known device, long after the attacker stopped.
func TestKnownDeviceDoesNotRenewTheLock(t *testing.T) {
	f := newFixture(t, auth.Config{Lockout: auth.Lockout{MaxFailures: 4, MaxFailuresPerClient: 2}, NoRateLimits: true})
	owner := netip.MustParsePrefix("203.0.113.9/32")
	s, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: owner}, "")
	if err != nil {
		t.Fatal(err)
	}
	proof := s.KnownDevice
	// The attacker: 4 failures from two addresses, once, then stops.
	for i := range 4 {
		f.from(fmt.Sprint("198.51.100.", i/2), "john_doe", "wrong")
	}
	// The owner's known device logs in every 10 minutes for 2 hours.
	for range 12 {
		f.clock.Advance(10 * time.Minute)
		s, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: owner, KnownDevice: proof}, "")
		if err != nil {
			t.Fatalf("known device: %v", err)
		}
		proof = s.KnownDevice
	}
	// 2 hours after the attacker's last failure (Window and Duration are
	// 15 minutes), the owner's new phone:
	var locked *auth.LockedError
	if err := f.from("192.0.2.77", "john_doe", rightPassword); errors.As(err, &locked) {
		t.Errorf("owner's new device 2h after the attacker stopped: locked until %v (now %v): the known device's own logins keep renewing the attacker's lock",
			locked.Until, f.clock.Now())
	}
}

// TestStrangersOnTheOwnersAddressDoNotLockItsDevice: a known device's "own"
// failures are counted per ADDRESS, so anyone sharing its address (the
// same NAT, CGNAT, campus, café Wi-Fi, or IPv6 /64) locks it out: 5
// failures from the owner's public address and the owner's known device
// gets 403 locked, with the right password. OWASP's device-cookie scheme
// locks a trusted device by its cookie, not by its address.
func TestStrangersOnTheOwnersAddressDoNotLockItsDevice(t *testing.T) {
	f := newFixture(t, auth.Config{NoRateLimits: true})
	shared := netip.MustParsePrefix("100.64.0.1/32")
	s, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: shared}, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: "wrong", Client: shared}, "") // attacker, same public address, no proof
	}
	if _, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: shared, KnownDevice: s.KnownDevice}, ""); err != nil {
		t.Errorf("owner's known device after a stranger's 5 failures from the same public address: %v", err)
	}
}

// TestPasswordsAreComparedInNFC: a password typed decomposed (as some
// keyboards send "é": e and a combining accent) logs in to a password set
// composed, since both are compared in NFC; a hash made of the decomposed
// bytes before gatehouse normalised (an imported one) still logs in, and
// is rehashed in NFC. An unknown user costs the same comparisons as a
// known one for the same input.
func TestPasswordsAreComparedInNFC(t *testing.T) {
	const composed, decomposed = "café maple orbit", "cafe\u0301 maple orbit"
	f := newFixture(t, auth.Config{})
	nfc, _ := f.a.HashPassword(ctx, decomposed, netip.Prefix{}) // hashed in NFC
	if f.hasher.Compare(nfc, []byte(composed)) != nil {
		t.Fatal("HashPassword did not hash the NFC form")
	}
	f.users.byLogin["john_doe"].PasswordHash = nfc
	for _, typed := range []string{composed, decomposed} {
		if _, err := f.login("john_doe", typed); err != nil {
			t.Errorf("typed %q against an NFC hash: %v", typed, err)
		}
	}
	if len(f.users.updated) != 0 {
		t.Fatalf("an NFC hash was rehashed: %v", f.users.updated)
	}
	raw, _ := f.hasher.Bcrypt.Hash([]byte(decomposed)) // an imported hash of the bytes as typed
	f.users.byLogin["john_doe"].PasswordHash = raw
	if _, err := f.login("john_doe", decomposed); err != nil {
		t.Fatalf("typed as the imported hash was made: %v", err)
	}
	if up := f.users.updated["341"]; up == nil || f.hasher.Compare(up, []byte(composed)) != nil {
		t.Fatal("the imported hash of the typed bytes was not rehashed in NFC")
	}
	for _, login := range []string{"john_doe", "nobody"} {
		before := f.hasher.Compares.Load()
		f.login(login, "wrong "+decomposed)
		if n := f.hasher.Compares.Load() - before; n != 2 {
			t.Errorf("%s, a wrong password NFC changes: %d comparisons, want 2 (NFC, then as typed)", login, n)
		}
	}
}

// TestNFCGrowthIsNotTruncated (found by the review of issue 17): a
// password of 72 bytes whose NFC form is longer (U+0958 is 3 bytes typed,
// 6 in NFC) is refused as too long, never compared by bcrypt, which reads
// only 72 bytes and would let a different password in.
func TestNFCGrowthIsNotTruncated(t *testing.T) {
	f := newFixture(t, auth.Config{})
	stored := strings.Repeat("a", 69) + "\u0915"
	hash, err := f.hasher.Bcrypt.Hash([]byte(stored))
	if err != nil {
		t.Fatal(err)
	}
	f.users.byLogin["john_doe"].PasswordHash = hash
	typed := strings.Repeat("a", 69) + "\u0958" // 72 bytes typed, 75 in NFC
	if _, err := f.login("john_doe", typed); !errors.Is(err, password.ErrTooLong) {
		t.Fatalf("%d bytes typed, %d in NFC: %v, want ErrTooLong", len(typed), len(password.Normalize(typed)), err)
	}
	if n := f.hasher.Compares.Load(); n != 0 {
		t.Fatalf("%d comparisons, want none", n)
	}
}

// argonCounting counts the Argon2id comparisons an Importing hasher runs:
// under Importing{} the dummy is an Argon2id hash.
type argonCounting struct {
	password.Importing
	argon atomic.Int64
}

func (h *argonCounting) Compare(hash, pw []byte) error {
	if strings.HasPrefix(string(hash), "$argon2id$") {
		h.argon.Add(1)
	}
	return h.Importing.Compare(hash, pw)
}

// TestLongPasswordOnAnImportedBcryptRowSpendsAComparison (found by the
// review of issue 17): under password.Importing a login takes up to 1024
// bytes, but an imported bcrypt row refuses more than 72 at once; the
// login then spends a comparison against the dummy, as an unknown name
// does, so the time does not tell which accounts still have bcrypt rows.
func TestLongPasswordOnAnImportedBcryptRowSpendsAComparison(t *testing.T) {
	h := &argonCounting{}
	f := newFixture(t, auth.Config{Hasher: h})
	row, err := password.Hash(rightPassword, 10)
	if err != nil {
		t.Fatal(err)
	}
	f.users.byLogin["john_doe"].PasswordHash = row
	for _, login := range []string{"john_doe", "nobody"} {
		before := h.argon.Load()
		if _, err := f.login(login, strings.Repeat("x", 80)); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("%s: %v", login, err)
		}
		if n := h.argon.Load() - before; n != 1 {
			t.Errorf("%s, an 80-byte password: %d comparisons against the dummy, want 1", login, n)
		}
	}
}
