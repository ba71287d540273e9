package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

func TestNilRecorderRecordsNothing(t *testing.T) {
	r := audit.New(nil, nil)
	if r != nil {
		t.Fatal("New(nil, nil) should be the nil recorder")
	}
	r.Record(context.Background(), audit.LoginFailed) // must not panic
	r.ObserveHash(time.Millisecond)
}

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	r := audit.New(slog.New(slog.NewJSONHandler(&buf, nil)), nil)
	for _, e := range []audit.Event{audit.LoginSucceeded, audit.LoginLocked, audit.TokenReused, audit.StoreUnavailable, audit.TokenRejected, audit.CookieDuplicate, audit.LoginHeld} {
		r.Record(context.Background(), e, slog.String(audit.KeySubject, "s"))
	}
	want := []string{"INFO", "WARN", "WARN", "WARN", "INFO", "WARN", "WARN"}
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["level"] != want[i] || m["subject"] != "s" || !strings.HasPrefix(m["msg"].(string), "gatehouse ") || m["event"] == "" {
			t.Errorf("line %d = %v, want level %s", i, m, want[i])
		}
	}
}

type storeCalls struct {
	ops    []string
	failed int
}

func (s *storeCalls) Count(audit.Event)         {}
func (s *storeCalls) ObserveHash(time.Duration) {}
func (s *storeCalls) ObserveStore(op string, d time.Duration, failed bool) {
	s.ops = append(s.ops, op)
	if failed {
		s.failed++
	}
}

func TestInstrumentStore(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	flaky := storefault.Wrap(mem)
	m := &storeCalls{}
	st := audit.InstrumentStore(flaky, m)
	ctx := context.Background()
	id := store.ID{Tag: "t0"}
	rec := store.Record{Kind: store.KindSession, Subject: "u", ExpiresAt: time.Now().Add(time.Hour)}
	_ = st.Put(ctx, id, rec)
	_, _, _ = st.Get(ctx, id)
	_, _, _ = st.Consume(ctx, id)
	_, _ = st.Rotate(ctx, id, store.ID{Tag: "t0", Hash: [32]byte{1}}, time.Hour)
	_, _ = st.Delete(ctx, id)
	_, _ = st.DeleteAll(ctx, "t0", "u", store.Filter{})
	_, _ = st.List(ctx, "t0", "u", store.Filter{})
	_, _ = st.Hit(ctx, "k", time.Minute)
	_, _ = st.Peek(ctx, "k")
	_ = st.Reset(ctx, "k")
	flaky.SetDown(true)
	if _, _, err := st.Get(ctx, id); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("the wrapper hid the failure: %v", err)
	}
	want := "put get consume rotate delete delete_all list hit peek reset get"
	if got := strings.Join(m.ops, " "); got != want || m.failed != 1 {
		t.Fatalf("observed %q (%d failed), want %q (1 failed)", got, m.failed, want)
	}
	if audit.InstrumentStore(mem, nil) != store.Store(mem) {
		t.Error("no metrics should mean no wrapper")
	}
}

// Wiring the metrics to expvar: every decision and timing shows up on
// /debug/vars of any server that imports expvar.
func ExampleExpvar() {
	m := audit.NewExpvar("gatehouse_example")
	// auth.New(auth.Config{..., Metrics: m}); tokens.New(tokens.Config{Store: audit.InstrumentStore(st, m)})
	m.Count(audit.LoginFailed)
	m.Count(audit.LoginFailed)
	m.ObserveStore("get", 150*time.Microsecond, false)
	vars := expvar.Get("gatehouse_example").(*expvar.Map)
	fmt.Println(vars.Get("events"))
	fmt.Println(vars.Get("timing").(*expvar.Map).Get("store_get_count"))
	// Output:
	// {"login.failed": 2}
	// 1
}
