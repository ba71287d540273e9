package auth_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/problem"
)

// TestMissingConfigIsNamedFirst: New cannot know which features an app will
// use, so a method that needs what Config lacks (a Mailer, Users that
// implement HashUpdater) answers a *ConfigError naming the method and
// everything missing, before it reads its arguments or the store: the
// first call in development tells the developer, whatever its input, and
// a store that is down does not hide it.
func TestMissingConfigIsNamedFirst(t *testing.T) {
	f := newFixture(t, auth.Config{})
	a, err := auth.New(auth.Config{Users: usersOnly{f.users}, Tokens: f.tokens, Counters: f.store, Hasher: f.hasher, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.store.SetDown(true)
	calls := f.store.Calls()
	const noUpdater = "Config.Users to implement HashUpdater (auth_test.usersOnly does not)"
	for _, tc := range []struct {
		method  string
		call    func() error
		missing []string
	}{
		{"RequestPasswordReset", func() error { return a.RequestPasswordReset(ctx, "") },
			[]string{"Config.Mailer", noUpdater}},
		{"ConfirmPasswordReset", func() error { _, err := a.ConfirmPasswordReset(ctx, auth.PasswordReset{}); return err },
			[]string{noUpdater}},
		{"SendEmailConfirmation", func() error { return a.SendEmailConfirmation(ctx, "341", "") },
			[]string{"Config.Mailer"}},
	} {
		err := tc.call()
		var ce *auth.ConfigError
		if !errors.As(err, &ce) || ce.Method != tc.method || !slices.Equal(ce.Missing, tc.missing) {
			t.Errorf("%s: %v, want a *ConfigError naming %q", tc.method, err, tc.missing)
			continue
		}
		if want := "auth: " + tc.method + " needs " + strings.Join(tc.missing, " and "); err.Error() != want {
			t.Errorf("%s: %q, want %q", tc.method, err, want)
		}
		if p := problem.Of(err); p.Status != 500 {
			t.Errorf("%s: answered %d %s, want 500: the app's mistake, not the client's", tc.method, p.Status, p.Code)
		}
	}
	if n := f.store.Calls() - calls; n != 0 {
		t.Errorf("%d store calls before the missing configuration was reported, want 0", n)
	}
}
