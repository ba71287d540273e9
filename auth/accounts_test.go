package auth_test

import (
	"errors"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// setActive flips the fixture user's flag, as the app would.
func (u *users) setActive(login string, active bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byLogin[login].Active = active
}

func TestDeactivateEndsEveryTokenOfTheUser(t *testing.T) {
	f := newFixture(t, auth.Config{})
	type held struct {
		kind  store.Kind
		token string
	}
	var live []held
	keep := func(kind store.Kind, tok string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, held{kind, tok})
	}
	for _, project := range []string{"A", "B"} {
		s, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword}, project)
		keep(store.KindSession, s.Token, err)
	}
	link, err := f.a.IssueLoginLink(ctx, "341", "C")
	keep(store.KindLogin, link.Token, err)
	dev, err := f.tokens.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "341", Device: "phone"})
	keep(store.KindDevice, dev.Token, err)
	reset, err := f.tokens.Issue(ctx, store.KindReset, tokens.Claims{Subject: "341"})
	keep(store.KindReset, reset.Token, err)
	other, err := f.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: "343"})
	if err != nil {
		t.Fatal(err)
	}

	f.users.setActive("john_doe", false)
	n, err := f.a.Deactivate(ctx, "341")
	if err != nil || n != len(live) {
		t.Fatalf("Deactivate = %d, %v; want %d", n, err, len(live))
	}
	for _, l := range live {
		if _, err := f.tokens.Validate(ctx, l.kind, l.token); !errors.Is(err, tokens.ErrInvalid) {
			t.Errorf("%s token after Deactivate: %v, want ErrInvalid", l.kind, err)
		}
	}
	if _, err := f.tokens.Validate(ctx, store.KindSession, other.Token); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
	if _, err := f.login("john_doe", rightPassword); !errors.Is(err, auth.ErrInactive) {
		t.Errorf("login after deactivation: %v, want ErrInactive", err)
	}

	// Nothing left to end is not an error: a retry after a failure is safe.
	if n, err := f.a.Deactivate(ctx, "341"); err != nil || n != 0 {
		t.Errorf("second Deactivate = %d, %v; want 0, nil", n, err)
	}
	f.users.setActive("john_doe", true)
	if _, err := f.login("john_doe", rightPassword); err != nil {
		t.Errorf("login after reactivation: %v", err)
	}
}

func TestDeactivateStoreDown(t *testing.T) {
	f := newFixture(t, auth.Config{})
	s, err := f.login("john_doe", rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	f.store.SetDown(true)
	_, err = f.a.Deactivate(ctx, "341")
	if !errors.Is(err, store.ErrUnavailable) || problem.Of(err).Status != 503 {
		t.Fatalf("Deactivate with the store down: %v, want store.ErrUnavailable (503)", err)
	}
	f.store.SetDown(false)
	if n, err := f.a.Deactivate(ctx, "341"); err != nil || n != 1 {
		t.Fatalf("retry after recovery = %d, %v; want 1, nil", n, err)
	}
	if _, err := f.tokens.Validate(ctx, store.KindSession, s.Token); err == nil {
		t.Fatal("session survived the retried Deactivate")
	}
}

func TestDeactivateNeedsASubject(t *testing.T) {
	f := newFixture(t, auth.Config{})
	if _, err := f.a.Deactivate(ctx, ""); err == nil {
		t.Fatal("Deactivate(\"\") accepted")
	}
}
