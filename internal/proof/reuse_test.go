package proof

import (
	"errors"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestRow03ReplayAfterTheStolenTokenExpired: on every store, with a fake
// clock, a thief rotates a stolen device token and keeps rotating; the
// owner's app stays idle past the stolen token's own expiry (30 days) and
// then presents it. The replay is still recognised (tokens.ErrReused) and
// ends the thief's chain, sessions included: the spent token is kept until
// its chain's end (90 days), not forgotten at its own expiry. At the
// chain's end it is forgotten.
func TestRow03ReplayAfterTheStolenTokenExpired(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			l := newLib(t, sf.Open, auth.Lockout{})
			owner, err := l.a.LoginDevice(ctx, auth.Credentials{Login: "ada", Password: rightPassword}, "", "phone")
			if err != nil {
				t.Fatal(err)
			}
			stolen := owner.DeviceToken

			l.clock.Advance(day)
			thief, err := l.a.ReAuthenticate(ctx, "phone", stolen)
			if err != nil {
				t.Fatalf("the thief's rotation: %v", err)
			}
			l.clock.Advance(24 * day)
			if thief, err = l.a.ReAuthenticate(ctx, "phone", thief.DeviceToken); err != nil {
				t.Fatalf("the thief's second rotation, day 25: %v", err)
			}

			// Day 35: the stolen token's own expiry (day 30) has passed,
			// the thief's chain lives until day 55.
			l.clock.Advance(10 * day)
			if !owner.DeviceExpiresAt.Before(l.clock.Now()) {
				t.Fatalf("the stolen token expires %v, not before the replay at %v", owner.DeviceExpiresAt, l.clock.Now())
			}
			_, err = l.a.ReAuthenticate(ctx, "phone", stolen)
			var reused *auth.ReusedError
			if !errors.Is(err, tokens.ErrReused) || !errors.As(err, &reused) || reused.Subject != "1815" {
				t.Fatalf("the owner's replay on day 35: %v, want tokens.ErrReused (a *auth.ReusedError for 1815)", err)
			}
			if _, err := l.tokens.Validate(ctx, store.KindDevice, thief.DeviceToken); !errors.Is(err, tokens.ErrInvalid) {
				t.Errorf("the thief's device token after the replay: %v, want ErrInvalid", err)
			}
			if _, err := l.tokens.Validate(ctx, store.KindSession, thief.Token); !errors.Is(err, tokens.ErrInvalid) {
				t.Errorf("the thief's session after the replay: %v, want ErrInvalid", err)
			}
			if _, err := l.a.ReAuthenticate(ctx, "phone", thief.DeviceToken); !errors.Is(err, tokens.ErrInvalid) {
				t.Errorf("the thief rotating on after the replay: %v, want ErrInvalid", err)
			}

			// The bound: at the chain's end the spent token is forgotten.
			l.clock.Advance(owner.ChainEnd.Sub(l.clock.Now()))
			if _, err := l.a.ReAuthenticate(ctx, "phone", stolen); !errors.Is(err, tokens.ErrInvalid) {
				t.Errorf("a replay at the chain's end: %v, want ErrInvalid (forgotten)", err)
			}
		})
	}
}
