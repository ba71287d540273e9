package proof

import (
	"context"
	"expvar"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestAttack2FullStoreIsNoOracle is attack 2 of issue 14 over HTTP: with
// the memory store's token budget and counter budget both full, a reset
// request for an account's address and one for nobody's answer the same
// bytes. Before, a full store answered the known address 503 and the
// unknown one 200. Redis has no cap of gatehouse's own, so only the
// memory store can be full.
func TestAttack2FullStoreIsNoOracle(t *testing.T) {
	mem := memory.New(memory.Options{MaxRecords: 20, MaxCounters: 20})
	t.Cleanup(func() { mem.Close() })
	tm, err := tokens.New(tokens.Config{Store: mem, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	h := authtest.NewHasher()
	hash, _ := h.Hash([]byte(rightPassword))
	// The events go to expvar (audit's own Metrics), read back below.
	met := audit.NewExpvar("proof_attack2")
	a, err := auth.New(auth.Config{Users: resettable{oneUser{hash}}, Tokens: tm, Counters: mem, Hasher: h,
		Mailer: &authtest.Outbox{}, ResetMinDuration: -1, NoRateLimits: true, Metrics: met})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.RequestPasswordReset(r.Context(), r.FormValue("email")); err != nil {
			problem.Write(w, err)
			return
		}
		fmt.Fprint(w, `{"message":"if the address is ours, a link is on its way"}`)
	}))
	defer srv.Close()
	// Fill both budgets: sessions of others, and counters of strangers.
	for i := 0; ; i++ {
		if _, err := tm.Issue(t.Context(), store.KindSession, tokens.Claims{Subject: fmt.Sprint("u", i)}); err != nil {
			break
		}
	}
	for i := 0; ; i++ {
		if _, err := mem.Hit(t.Context(), fmt.Sprint("filler-", i), time.Hour); err != nil {
			break
		}
	}
	ask := func(email string) string {
		res, err := srv.Client().Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("email="+email))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return fmt.Sprint(res.StatusCode, " ", string(b))
	}
	for range 3 {
		known, unknown := ask("ada@example.com"), ask("nobody@example.com")
		if known != unknown || !strings.HasPrefix(known, "200 ") {
			t.Fatalf("full store: an account's address answered %q, nobody's %q; want the same 200", known, unknown)
		}
	}
	// The account's reset did meet the full store: the operator is told.
	events := expvar.Get("proof_attack2").(*expvar.Map).Get("events").(*expvar.Map)
	if n := events.Get(string(audit.StoreUnavailable)); n == nil || n.String() == "0" {
		t.Fatalf("no store.unavailable event: the known address's reset never met the full store (%s)", events)
	}
}

// resettable is oneUser with a place to save a new hash, as a password
// reset needs.
type resettable struct{ oneUser }

func (resettable) UpdatePasswordHash(context.Context, string, []byte) error { return nil }
