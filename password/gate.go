package password

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
)

// ErrBusy: every hashing slot stayed taken for as long as a check may wait
// (503 busy). A login answered so was never checked, so it counts toward
// no lockout.
var ErrBusy = problem.New("password: too many password checks in progress", problem.Error{
	Status: http.StatusServiceUnavailable, Code: "busy", Message: "too many logins in progress; try again"})

// Gate bounds how many hashes run at once, so that a flood of logins keeps
// cores free for the rest of the app. It is safe for concurrent use.
type Gate struct {
	slots chan struct{}
	wait  time.Duration
}

// NewGate returns a Gate of n slots whose callers wait at most wait for
// one. It panics if n < 1 or wait < 0: both are programmer mistakes.
func NewGate(n int, wait time.Duration) *Gate {
	if n < 1 || wait < 0 {
		panic("password: NewGate needs at least one slot and a wait of zero or more")
	}
	return &Gate{slots: make(chan struct{}, n), wait: wait}
}

// Run calls f in a slot, waiting at most the gate's wait for one. It
// returns ErrBusy when none came free in time, joined with ctx's error
// when ctx ended first; f has not run then.
func (g *Gate) Run(ctx context.Context, f func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return errors.Join(ErrBusy, ctx.Err())
		}
	}
	defer func() { <-g.slots }()
	f()
	return nil
}
