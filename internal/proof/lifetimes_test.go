package proof

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

const day = 24 * time.Hour

// TestRow11LifetimesByTheClock: on every store, with a fake clock, a
// one-time login link works at 5 min - 1 s and is refused at 5 min + 1 s,
// and a device chain rotated every 29 days is refused at its absolute
// lifetime (90 days from the password login) although its last token is
// fresh. (That no Redis key is left without a TTL is checked after the
// store suite: store/redis TestRedisStandalone and TestRedisCluster.)
func TestRow11LifetimesByTheClock(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			l := newLib(t, sf.Open, auth.Lockout{})
			early, err := l.a.IssueLoginLink(ctx, "1815", "p1")
			if err != nil {
				t.Fatal(err)
			}
			late, err := l.a.IssueLoginLink(ctx, "1815", "p1")
			if err != nil {
				t.Fatal(err)
			}
			l.clock.Advance(5*time.Minute - time.Second)
			if _, err := l.a.RedeemLoginLink(ctx, early.Token); err != nil {
				t.Fatalf("login link at 4:59: %v", err)
			}
			l.clock.Advance(2 * time.Second)
			if _, err := l.a.RedeemLoginLink(ctx, late.Token); !errors.Is(err, tokens.ErrInvalid) {
				t.Fatalf("login link at 5:01: %v, want ErrInvalid", err)
			}

			dev, err := l.a.LoginDevice(ctx, auth.Credentials{Login: "ada", Password: rightPassword}, "", "phone")
			if err != nil {
				t.Fatal(err)
			}
			start := l.clock.Now()
			for l.clock.Now().Add(29 * day).Before(start.Add(90 * day)) {
				l.clock.Advance(29 * day)
				if dev, err = l.a.ReAuthenticate(ctx, "phone", dev.DeviceToken); err != nil {
					t.Fatalf("rotation at day %v: %v", l.clock.Now().Sub(start)/day, err)
				}
			}
			if !dev.DeviceExpiresAt.Equal(start.Add(90 * day)) {
				t.Errorf("last token expires %v, want the chain's end %v", dev.DeviceExpiresAt, start.Add(90*day))
			}
			l.clock.Advance(start.Add(90 * day).Sub(l.clock.Now()))
			if _, err := l.a.ReAuthenticate(ctx, "phone", dev.DeviceToken); err == nil {
				t.Fatal("device chain outlived its absolute lifetime")
			}
		})
	}
}

// settable is accounts whose password a reset can change.
type settable struct {
	accounts
	mu   sync.Mutex
	hash []byte
}

func (s *settable) FindUser(ctx context.Context, login string) (auth.User, error) {
	u, err := s.accounts.FindUser(ctx, login)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.hash != nil {
		u.PasswordHash = s.hash
	}
	return u, err
}

func (s *settable) UpdatePasswordHash(_ context.Context, _ string, hash []byte) error {
	s.mu.Lock()
	s.hash = hash
	s.mu.Unlock()
	return nil
}

// TestRow13Sessions: on every store, every login issues a new session
// token (no fixation: nothing the client held before becomes a session);
// a logged-out session opens nothing; and a password reset ends every
// session in every project and every device chain of the user. (Cookie
// flags are checked over HTTPS in examples/quickstart TestBrowserFlow and
// middleware TestCookieFlags.)
func TestRow13Sessions(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			base := newLib(t, sf.Open, auth.Lockout{})
			users := &settable{accounts: accounts{hash: mustHash(t)}}
			box := &authtest.Outbox{}
			a, err := auth.New(auth.Config{Users: users, Tokens: base.tokens, Counters: base.store,
				Hasher: base.hasher, Mailer: box, Now: base.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			cred := auth.Credentials{Login: "ada", Password: rightPassword}
			seen := map[string]bool{}
			var sessions []string
			for _, project := range []string{"p1", "p1", "p2"} {
				s, err := a.Login(ctx, cred, project)
				if err != nil {
					t.Fatal(err)
				}
				if seen[s.Token] {
					t.Fatal("a login reused a session token")
				}
				seen[s.Token] = true
				sessions = append(sessions, s.Token)
			}
			if err := a.Logout(ctx, sessions[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := base.tokens.Validate(ctx, store.KindSession, sessions[0]); err == nil {
				t.Fatal("a logged-out session still validates")
			}
			dev, err := a.LoginDevice(ctx, cred, "p1", "phone")
			if err != nil {
				t.Fatal(err)
			}
			if err := a.RequestPasswordReset(ctx, "ada@example.com"); err != nil {
				t.Fatal(err)
			}
			if len(box.Messages()) != 1 {
				t.Fatalf("%d reset messages, want 1", len(box.Messages()))
			}
			if _, err := a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: box.Messages()[0].Token, Password: "maple kettle orbit nine"}); err != nil {
				t.Fatal(err)
			}
			for _, tok := range append(sessions[1:], dev.Token) {
				if _, err := base.tokens.Validate(ctx, store.KindSession, tok); err == nil {
					t.Error("a session outlived the password reset")
				}
			}
			if _, err := a.ReAuthenticate(ctx, "phone", dev.DeviceToken); err == nil {
				t.Error("a device chain outlived the password reset")
			}
			if live, _ := base.tokens.List(ctx, "1815", store.Filter{}); len(live) != 0 {
				t.Errorf("%d live tokens after the reset, want 0", len(live))
			}
			if _, err := a.Login(ctx, auth.Credentials{Login: "ada", Password: "maple kettle orbit nine"}, "p1"); err != nil {
				t.Errorf("login with the new password: %v", err)
			}
		})
	}
}

func mustHash(t testing.TB) []byte {
	h, err := password.Bcrypt{Cost: 4}.Hash([]byte(rightPassword))
	if err != nil {
		t.Fatal(err)
	}
	return h
}
