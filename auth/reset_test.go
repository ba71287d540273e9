package auth_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

const newPassword = "maple kettle orbit nine"

// resetFixture is the fixture with a Mailer and users whose saved hash is
// the one logins check, plus an inactive account with an address.
func resetFixture(t *testing.T, cfg auth.Config) (*fixture, *authtest.Outbox) {
	t.Helper()
	mail := &authtest.Outbox{}
	cfg.Mailer = mail
	f := newFixture(t, cfg)
	f.users.mu.Lock()
	f.users.byLogin["inactive@domain.com"] = f.users.byLogin["inactive_user"]
	f.users.mu.Unlock()
	return f, mail
}

// saved copies the hash a reset saved into the user, as an app would.
func (f *fixture) saved(t *testing.T, login string) {
	t.Helper()
	f.users.mu.Lock()
	defer f.users.mu.Unlock()
	u := f.users.byLogin[login]
	hash, ok := f.users.updated[u.Subject]
	if !ok {
		t.Fatalf("no hash saved for %s", u.Subject)
	}
	u.PasswordHash = hash
}

func (f *fixture) requestReset(t *testing.T, mail *authtest.Outbox, email string) string {
	t.Helper()
	if err := f.a.RequestPasswordReset(ctx, email); err != nil {
		t.Fatal(err)
	}
	return mail.Last(t).Token
}

func TestPasswordResetSetsThePasswordOnce(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	if err := f.a.RequestPasswordReset(ctx, " John_Doe@Domain.com "); err != nil {
		t.Fatal(err)
	}
	m := mail.Last(t)
	if m.Purpose != auth.PurposeResetPassword || m.To != "john_doe@domain.com" || m.Subject != "341" ||
		tokens.KindOf(m.Token) != store.KindReset {
		t.Fatalf("message = %+v", m)
	}
	if want := f.clock.Now().Add(time.Hour); !m.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", m.ExpiresAt, want)
	}
	sub, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: m.Token, Password: newPassword})
	if err != nil || sub != "341" {
		t.Fatalf("confirm: %q, %v", sub, err)
	}
	f.saved(t, "john_doe")
	if _, err := f.login("john_doe", rightPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if _, err := f.login("john_doe", newPassword); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: m.Token, Password: "yet another one"}); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("second confirmation: %v, want ErrInvalid", err)
	}
}

func TestPasswordResetEndsEveryToken(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{AllowUnconfirmed: true})
	var live []string
	for _, p := range []string{"", "p1", "p2"} {
		s, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword}, p)
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, s.Token)
	}
	for _, d := range []string{"phone", "laptop"} {
		iss, err := f.tokens.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "341", Device: d})
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, iss.Token)
	}
	link, _ := f.a.IssueLoginLink(ctx, "341", "p1")
	live = append(live, link.Token)
	other := f.requestReset(t, mail, "john_doe@domain.com")
	live = append(live, other)
	otherUser, err := f.a.Login(ctx, auth.Credentials{Login: "unconfirmed_user", Password: rightPassword}, "")
	if err != nil {
		t.Fatal(err)
	}

	tok := f.requestReset(t, mail, "john_doe@domain.com")
	if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: newPassword}); err != nil {
		t.Fatal(err)
	}
	for _, tok := range live {
		if _, err := f.tokens.Validate(ctx, tokens.KindOf(tok), tok); !errors.Is(err, tokens.ErrInvalid) {
			t.Errorf("%s token after the reset: %v, want ErrInvalid", tokens.KindOf(tok), err)
		}
	}
	if n, _ := f.tokens.List(ctx, "341", store.Filter{}); len(n) != 0 {
		t.Errorf("%d tokens of the user left", len(n))
	}
	if _, err := f.tokens.Validate(ctx, store.KindSession, otherUser.Token); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
}

func TestPasswordResetClearsLockout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		clients []string
	}{
		{"locked from one client", []string{"192.0.2.1"}},
		{"locked from everywhere", []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, mail := resetFixture(t, auth.Config{})
			for _, c := range tc.clients {
				for range 5 {
					f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: "wrong", Client: netip.MustParsePrefix(c + "/32")}, "")
				}
			}
			var locked *auth.LockedError
			if _, err := f.login("john_doe", rightPassword); !errors.As(err, &locked) {
				t.Fatalf("not locked: %v", err)
			}
			tok := f.requestReset(t, mail, "john_doe@domain.com")
			if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: newPassword, Client: netip.MustParsePrefix("192.0.2.1/32")}); err != nil {
				t.Fatal(err)
			}
			f.saved(t, "john_doe")
			if _, err := f.login("john_doe", newPassword); err != nil {
				t.Fatalf("login after the reset: %v", err)
			}
		})
	}
}

func TestPasswordResetChecksTheNewPassword(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	tok := f.requestReset(t, mail, "john_doe@domain.com")
	for _, tc := range []struct {
		name, pw string
		status   int
		code     string
	}{
		{"missing", "", 400, "missing_field"},
		{"14 characters", "violet harbor", 400, "password_too_short"},
		{"15 characters of 2 bytes, decomposed", strings.Repeat("e\u0301", 14), 400, "password_too_short"},
		{"65 characters", strings.Repeat("maple kettle orbit nine ", 3)[:65], 400, "password_too_long"},
		{"64 characters, 73 bytes: over bcrypt's limit", "éàüößçñøé" + "maple kettle orbit nine violet harbor stone ribbon cact", 400, "password_too_long"},
		{"common", "passwordpassword", 400, "password_blocklisted"},
		{"the user's address", "John_Doe@domain.com", 400, "password_context"},
		{"NUL", "maple kettle\x00orbit nine", 400, "password_invalid"},
	} {
		_, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: tc.pw, Related: []string{"john_doe", "john_doe@domain.com"}})
		if p := problem.Of(err); p.Status != tc.status || p.Code != tc.code {
			t.Errorf("%s: %v (%+v), want %d %s", tc.name, err, p, tc.status, tc.code)
		}
	}
	if f.hasher.Hashes.Load() != 0 {
		t.Errorf("%d hashes for refused passwords, want 0", f.hasher.Hashes.Load())
	}
	// The refusals did not spend the token; 64 characters in 72 bytes is
	// the most bcrypt takes.
	if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: "éàüößçñø" + "maple kettle orbit nine violet harbor stone ribbon cactu"}); err != nil {
		t.Fatalf("64 characters, 72 bytes: %v", err)
	}
	tok = f.requestReset(t, mail, "john_doe@domain.com")
	if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: "violet harbor 9"}); err != nil {
		t.Fatalf("15 characters: %v", err)
	}
}

func TestPasswordResetRefusesBadTokensBeforeHashing(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	tok := f.requestReset(t, mail, "john_doe@domain.com")
	s, _ := f.login("john_doe", rightPassword)
	v, _ := f.a.IssueVerification(ctx, "341")
	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"none", "", tokens.ErrMissing},
		{"garbage", "garbage", tokens.ErrMalformed},
		{"a session token", s.Token, tokens.ErrWrongKind},
		{"a verification value", "ghr_" + tok[4:8] + "_" + v.Value, tokens.ErrInvalid},
	} {
		if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tc.token, Password: newPassword}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if f.hasher.Hashes.Load() != 0 {
		t.Errorf("%d hashes for bad tokens, want 0", f.hasher.Hashes.Load())
	}
	f.clock.Advance(time.Hour)
	if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: newPassword}); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("after an hour: %v, want ErrInvalid", err)
	}
}

func TestPasswordResetOnceUnderRace(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	tok := f.requestReset(t, mail, "john_doe@domain.com")
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			pw := newPassword + strings.Repeat("!", i)
			if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: pw}); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, tokens.ErrInvalid) && !errors.Is(err, password.ErrBusy) {
				t.Errorf("losing confirmation: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d confirmations succeeded; want exactly 1", wins.Load())
	}
}

// An unknown address, a deactivated account and a known one answer the
// same, with the same store work and no hashing.
func TestPasswordResetAnswersAlike(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	calls := map[string]int64{}
	for _, email := range []string{"john_doe@domain.com", "nobody@domain.com", "inactive@domain.com"} {
		before := f.store.Calls()
		if err := f.a.RequestPasswordReset(ctx, email); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		calls[email] = f.store.Calls() - before
	}
	if len(mail.Messages()) != 1 || mail.Messages()[0].To != "john_doe@domain.com" {
		t.Fatalf("messages: %+v; want one, to the known address", mail.Messages())
	}
	if calls["nobody@domain.com"] != calls["john_doe@domain.com"] || calls["inactive@domain.com"] != calls["john_doe@domain.com"] {
		t.Errorf("store calls differ: %v", calls)
	}
	if n := f.hasher.Hashes.Load() + f.hasher.Compares.Load(); n != 0 {
		t.Errorf("%d hashes for reset requests, want 0", n)
	}
	f.store.SetDown(true)
	for _, email := range []string{"john_doe@domain.com", "nobody@domain.com"} {
		if err := f.a.RequestPasswordReset(ctx, email); problem.Of(err).Status != 503 {
			t.Errorf("%s with the store down: %v, want a 503 error", email, err)
		}
	}
}

func TestPasswordResetIsRateLimitedSilently(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	for i := range auth.MaxMessagesPerHour + 2 {
		for _, email := range []string{"john_doe@domain.com", "nobody@domain.com"} {
			if err := f.a.RequestPasswordReset(ctx, email); err != nil {
				t.Fatalf("request %d for %s: %v", i+1, email, err)
			}
		}
	}
	if len(mail.Messages()) != auth.MaxMessagesPerHour {
		t.Fatalf("%d messages, want %d", len(mail.Messages()), auth.MaxMessagesPerHour)
	}
	f.clock.Advance(time.Hour + time.Second)
	f.requestReset(t, mail, "john_doe@domain.com")
	if len(mail.Messages()) != auth.MaxMessagesPerHour+1 {
		t.Fatalf("after the hour: %d messages", len(mail.Messages()))
	}
}

// usersOnly hides UpdatePasswordHash.
type usersOnly struct{ auth.Users }

func TestPasswordResetNeedsMailerAndHashUpdater(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	tok := f.requestReset(t, mail, "john_doe@domain.com")
	noSetter, err := auth.New(auth.Config{Users: usersOnly{f.users}, Tokens: f.tokens, Counters: f.store, Hasher: f.hasher, Mailer: mail, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := noSetter.RequestPasswordReset(ctx, "john_doe@domain.com"); err == nil {
		t.Error("request accepted without a HashUpdater")
	}
	if _, err := noSetter.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: newPassword}); err == nil {
		t.Error("confirmation accepted without a HashUpdater")
	}
	g := newFixture(t, auth.Config{})
	if err := g.a.RequestPasswordReset(ctx, "john_doe@domain.com"); err == nil {
		t.Error("request accepted without a Mailer")
	}
	for _, email := range []string{"", "  ", "john_doe", strings.Repeat("a", 320) + "@x"} {
		var fe *auth.FieldError
		if err := f.a.RequestPasswordReset(ctx, email); !errors.As(err, &fe) {
			t.Errorf("email %q: %v, want a FieldError", email, err)
		}
	}
	f.a.RequestPasswordReset(context.Background(), "john_doe@domain.com")
	mail.Fail = errors.New("smtp down")
	if err := f.a.RequestPasswordReset(ctx, "john_doe@domain.com"); err == nil {
		t.Error("mailer failure was swallowed")
	}
}

// upperUsers finds users as a case-insensitive collation does: by the
// upper case of the login, under which the dotless ı and i are one letter
// (strings.ToUpper("ı") == "I").
type upperUsers struct{ *users }

func (u upperUsers) FindUser(ctx context.Context, login string) (auth.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, usr := range u.byLogin {
		if strings.ToUpper(k) == strings.ToUpper(login) {
			return *usr, nil
		}
	}
	return auth.User{}, auth.ErrUnknownUser
}

// TestPasswordResetMailsTheStoredAddress: with a lookup that ignores case
// or folds look-alikes, the address typed is not the account's; the reset
// link must go to the stored one (issue 15, finding 11), not to the
// look-alike's owner.
func TestPasswordResetMailsTheStoredAddress(t *testing.T) {
	f := newFixture(t, auth.Config{})
	f.users.mu.Lock()
	f.users.byLogin["john_doe@domain.com"].Email = "john_doe@domain.com"
	f.users.mu.Unlock()
	mail := &authtest.Outbox{}
	a, err := auth.New(auth.Config{Users: upperUsers{f.users}, Tokens: f.tokens, Counters: f.store, Hasher: f.hasher,
		Mailer: mail, Now: f.clock.Now, ResetMinDuration: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, typed := range []string{
		"JOHN_DOE@Domain.com",
		"john_doe@doma\u0131n.com", // dotless ı: its upper case is I
	} {
		if err := a.RequestPasswordReset(ctx, typed); err != nil {
			t.Fatal(err)
		}
		if m := mail.Last(t); m.To != "john_doe@domain.com" || m.Subject != "341" {
			t.Errorf("typed %q: mail to %q for %q, want john_doe@domain.com for 341", typed, m.To, m.Subject)
		}
	}
}

// countingBreach is a breach checker that counts what it is asked.
type countingBreach struct{ calls atomic.Int64 }

func (c *countingBreach) Breached(context.Context, string) (bool, error) {
	c.calls.Add(1)
	return false, nil
}

// TestPasswordResetChecksThePolicyOnlyForALiveToken (found by the review
// of issue 17): a reset with no live token gets its token refused before
// the policy runs, so a stranger cannot make the server ask a breach
// checker, or spend the policy's work, for nothing.
func TestPasswordResetChecksThePolicyOnlyForALiveToken(t *testing.T) {
	bc := &countingBreach{}
	pol, err := password.NewPolicy(password.PolicyConfig{Breached: bc})
	if err != nil {
		t.Fatal(err)
	}
	f, mail := resetFixture(t, auth.Config{PasswordPolicy: pol})
	if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: "not-a-token", Password: newPassword}); err == nil {
		t.Fatal("a bogus token was accepted")
	}
	if n := bc.calls.Load(); n != 0 {
		t.Fatalf("a reset with no live token asked the breach checker %d times", n)
	}
	tok := f.requestReset(t, mail, "john_doe@domain.com")
	if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: newPassword}); err != nil || bc.calls.Load() != 1 {
		t.Fatalf("a live token: %v, %d breach checks; want nil, 1", err, bc.calls.Load())
	}
}

// TestPasswordResetRefusesTheUsersOwnWords (found by the review of issue
// 17): the app cannot know whose token a reset carries, so with Users a
// SubjectFinder the reset itself refuses the account's address and
// username as its new password.
func TestPasswordResetRefusesTheUsersOwnWords(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	john := f.users.byLogin["john_doe"]
	john.Email, john.Username = "john_doe@domain.com", "john_doe_the_third"
	tok := f.requestReset(t, mail, "john_doe@domain.com")
	for _, pw := range []string{"John_Doe@Domain.com", "john_doe_the_third", " JOHN_DOE_THE_THIRD "} {
		_, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: tok, Password: pw})
		if p := problem.Of(err); p.Code != "password_context" {
			t.Errorf("%q: %v, want password_context", pw, err)
		}
	}
}
