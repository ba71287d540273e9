package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/store"
)

// sessionFault is a store whose Put of a session fails on demand: the
// store going down between a trust token's rotation and the session.
type sessionFault struct {
	store.Store
	fail atomic.Bool
}

func (s *sessionFault) Put(ctx context.Context, id store.ID, rec store.Record) error {
	if rec.Kind == store.KindSession && s.fail.Load() {
		return fmt.Errorf("fault: %w", store.ErrUnavailable)
	}
	return s.Store.Put(ctx, id, rec)
}

// TestAttackFailedTrustedLoginOrphansSuccessor: a trusted login rotates
// the trust token in pend() before it issues the session; when the
// session then fails (the store blinks, or the known-device forgiving
// fails and undo runs), the login answers an error and hands nobody the
// successor, which stays live: a token of the chain nobody holds, while
// the browser holds only the spent one. Its next login (the store back)
// is a "replay" that revokes the chain and audits token reuse against an
// innocent user, and the user is asked for the code: one store blink
// costs the browser its trust and raises a false theft alarm.
//
// Expected safe behaviour: a login rotates only once its session exists,
// so a failure before leaves the browser's token good for the retry (and
// a failure after withdraws the successor it could not hand out).
func TestAttackFailedTrustedLoginOrphansSuccessor(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(twoStepStart)
			st := &sessionFault{Store: sf.Open(t, clock.Now)}
			e := newTwoStep(t, st, clock)
			trust := e.trustedLogin(t)
			st.fail.Store(true)
			_, err := e.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword,
				Client: netip.MustParsePrefix(twoStepClient), TrustedDevice: trust}, "")
			st.fail.Store(false)
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("login with the session store down: %v", err)
			}
			live, err := e.tokens.List(ctx, "341", store.Filter{Kind: store.KindTrust})
			if err != nil {
				t.Fatal(err)
			}
			// One live token: the browser's own, unspent (the rotation
			// comes last, after the session), and no successor nobody holds.
			if len(live) != 1 {
				t.Errorf("after a failed trusted login, %d live trust tokens, want the browser's one", len(live))
			}
			if a := e.loginTrusted(t, rightPassword, trust); a.status != 200 {
				t.Errorf("the browser's retry after a store blink: %d %v (its trust was spent by a login that failed)", a.status, a.body)
			}
		})
	}
}
