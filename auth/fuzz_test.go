package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// FuzzRedeemVerification: any id and value are refused with a token error
// (401 invalid_token or missing_token) and leave the real verification
// unspent, unless they are exactly the pair the test issued. "$ID" and
// "$VALUE" in the input stand for that pair.
func FuzzRedeemVerification(f *testing.F) {
	fx := newFixture(f, auth.Config{})
	mem := fx.store.Store.(*memory.Store)
	v, err := fx.a.IssueVerification(ctx, "341")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][2]string{
		{"$ID", "$VALUE"}, {"$ID", "$VALUE="}, {"$ID ", "$VALUE"}, {"$VALUE", "$ID"}, {"$ID", ""}, {"", "$VALUE"},
		{"vid_abcd_" + strings.Repeat("A", 43), strings.Repeat("A", 43)},
		{"vid_ABCD_" + strings.Repeat("A", 43), strings.Repeat("A", 43)},
		{"vid_abcd-" + strings.Repeat("A", 43), strings.Repeat("A", 43)},
		{"vid_abcd_" + strings.Repeat("/", 43), strings.Repeat("+", 43)},
		{"vid_abcd_" + strings.Repeat("A", 42) + "B", strings.Repeat("A", 42) + "B"},
		{"vid_\xff\xff\xff\xff_" + strings.Repeat("A", 43), strings.Repeat("\xff", 43)},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, id, value string) {
		real := v
		id = strings.ReplaceAll(id, "$ID", real.ID)
		value = strings.ReplaceAll(value, "$VALUE", real.Value)
		subject, err := fx.a.RedeemVerification(ctx, id, value)
		if err == nil {
			if id != real.ID || value != real.Value || subject != "341" {
				t.Fatalf("RedeemVerification(%q, %q) = %q, accepted", id, value, subject)
			}
		} else {
			p := problem.Of(err)
			if !errors.Is(err, tokens.ErrMissing) && !errors.Is(err, tokens.ErrMalformed) && !errors.Is(err, tokens.ErrInvalid) ||
				p.Status != http.StatusUnauthorized || (p.Code != "invalid_token" && p.Code != "missing_token") {
				t.Fatalf("RedeemVerification(%q, %q): %v (%d %s)", id, value, err, p.Status, p.Code)
			}
			// A refused attempt spends nothing: the real pair still works.
			if _, err := fx.a.RedeemVerification(ctx, real.ID, real.Value); err != nil {
				t.Fatalf("after RedeemVerification(%q, %q), the real pair is refused: %v", id, value, err)
			}
		}
		// Both paths spent the pair: sweep it (so that a long run does not
		// fill the store) and issue the next one.
		// The memory store keeps expiries in int64 nanoseconds (good to the
		// year 2262): bring the clock back before it gets there.
		fx.clock.Advance(25 * time.Hour)
		mem.Sweep()
		if fx.clock.Now().After(testfix.Start.AddDate(100, 0, 0)) {
			fx.clock.Advance(testfix.Start.Sub(fx.clock.Now()))
		}
		if v, err = fx.a.IssueVerification(ctx, "341"); err != nil {
			t.Fatal(err)
		}
	})
}
