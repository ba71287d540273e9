package redistest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Commands is a go-redis hook that counts the commands a client sends,
// each command of a pipeline included, so that a test can say how many
// round trips an operation costs. On a cluster client, add it to the
// cluster client only: it then counts each command once, whichever node
// takes it.
type Commands struct{ N atomic.Int64 }

var _ redis.Hook = (*Commands)(nil)

// DialHook implements redis.Hook; dials are not counted.
func (c *Commands) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (c *Commands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connSetUp(cmd) {
			c.N.Add(1)
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *Commands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.N.Add(int64(operational(cmds)))
		return next(ctx, cmds)
	}
}

// connSetUp reports whether cmd is one go-redis sends on a connection it
// has just opened (HELLO, CLIENT SETINFO, AUTH, SELECT): its hooks see
// those too, and when an operation needs a second connection at once (two
// commands sent together) they would count toward it, or not, as the pool
// happens to hold one.
func connSetUp(cmd redis.Cmder) bool {
	switch strings.ToLower(cmd.Name()) {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// operational counts the commands of cmds that are not connection set-up.
func operational(cmds []redis.Cmder) int {
	n := 0
	for _, cmd := range cmds {
		if !connSetUp(cmd) {
			n++
		}
	}
	return n
}

// RoundTrips is a go-redis hook that counts how many times a client waits
// on Redis: commands in flight together count once. So that commands
// sent together are seen together however the goroutines are scheduled,
// a command that starts alone is held until another starts or Grace
// passes: each wait costs up to Grace more, and nothing is timed.
type RoundTrips struct {
	Grace time.Duration

	mu       sync.Mutex
	inFlight int
	n        int
	arrived  chan struct{} // closed when a command joins one in flight
}

var _ redis.Hook = (*RoundTrips)(nil)

// N is how many round trips were counted since the last Reset.
func (r *RoundTrips) N() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Reset sets the count to zero.
func (r *RoundTrips) Reset() {
	r.mu.Lock()
	r.n = 0
	r.mu.Unlock()
}

func (r *RoundTrips) start() {
	r.mu.Lock()
	r.inFlight++
	if r.inFlight > 1 {
		if r.arrived != nil {
			close(r.arrived)
			r.arrived = nil
		}
		r.mu.Unlock()
		return
	}
	r.n++
	arrived := make(chan struct{})
	r.arrived = arrived
	r.mu.Unlock()
	select {
	case <-arrived:
	case <-time.After(r.Grace):
	}
}

func (r *RoundTrips) end() {
	r.mu.Lock()
	r.inFlight--
	if r.inFlight == 0 {
		r.arrived = nil
	}
	r.mu.Unlock()
}

// DialHook implements redis.Hook; dials are not counted.
func (r *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (r *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if connSetUp(cmd) {
			return next(ctx, cmd)
		}
		r.start()
		defer r.end()
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook: a pipeline is one wait.
func (r *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if operational(cmds) == 0 {
			return next(ctx, cmds)
		}
		r.start()
		defer r.end()
		return next(ctx, cmds)
	}
}
