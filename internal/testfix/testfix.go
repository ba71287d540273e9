// Package testfix builds what most tests start from: a fake clock, a memory
// store behind a wrapper that can be taken down, and a token manager on it.
package testfix

import (
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Start is a fixed instant tests start from.
var Start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TagKey is the tokens.Config.TagKey of tests: a fixed key, so that every
// Manager a test makes on one store agrees. Apps load theirs from secrets.
var TagKey = []byte("gatehouse tests' routing-tag key, 32+ bytes")

// Env is a clock, a store and a token manager sharing that clock.
type Env struct {
	Clock  *fakeclock.Clock
	Store  *storefault.Store
	Tokens *tokens.Manager
}

// New returns an Env whose clock reads Start; cfg's Store and Now are set
// to the Env's, and its TagKey to TagKey when empty. The store is closed when the test ends.
func New(t testing.TB, cfg tokens.Config) Env {
	t.Helper()
	clock := fakeclock.New(Start)
	mem := memory.New(memory.Options{Now: clock.Now})
	t.Cleanup(func() { mem.Close() })
	st := storefault.Wrap(mem)
	cfg.Store, cfg.Now = st, clock.Now
	if cfg.TagKey == nil {
		cfg.TagKey = TagKey
	}
	tm, err := tokens.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Env{Clock: clock, Store: st, Tokens: tm}
}
