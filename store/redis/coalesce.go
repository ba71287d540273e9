package redis

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// coalescer sends the token lookups of concurrent requests to Redis
// together, as one pipeline, because under load the round trips, not
// Redis, are the limit: a server that answers ~70k GETs a second one at a
// time answers several times that pipelined.
//
// It adds no timer and no delay: a lookup that finds fewer than maxFlights
// pipelines in flight is sent at once, by its own goroutine, together with
// whatever else is waiting; one that finds them all busy waits for the next
// to finish, and goes with everything that queued meanwhile. So a lone
// request costs one GET as before, and under load the batches grow by
// themselves to the load.
type coalescer struct {
	c          goredis.UniversalClient
	maxFlights int
	maxBatch   int

	mu      sync.Mutex
	landed  sync.Cond // on mu: signalled when the last flight lands
	queue   []*lookup
	flights int
}

type lookup struct {
	key  string
	val  string
	err  error
	done chan struct{}
}

var lookups = sync.Pool{New: func() any { return &lookup{done: make(chan struct{}, 1)} }}

func newCoalescer(c goredis.UniversalClient, flights, batch int) *coalescer {
	co := &coalescer{c: c, maxFlights: flights, maxBatch: batch}
	co.landed.L = &co.mu
	return co
}

// wait returns when no flight is in the air: every lookup queued before
// the call has been answered and no relay goroutine is left.
func (co *coalescer) wait() {
	co.mu.Lock()
	defer co.mu.Unlock()
	for co.flights > 0 {
		co.landed.Wait()
	}
}

// get returns the value under key, goredis.Nil when there is none.
func (co *coalescer) get(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	l := lookups.Get().(*lookup)
	l.key, l.val, l.err = key, "", nil
	co.mu.Lock()
	co.queue = append(co.queue, l)
	if co.flights < co.maxFlights {
		co.flights++
		batch := co.take()
		co.mu.Unlock()
		co.fly(batch)
	} else {
		co.mu.Unlock()
	}
	select {
	case <-l.done:
		val, err := l.val, l.err
		lookups.Put(l)
		return val, err
	case <-ctx.Done():
		// The lookup stays queued and will be answered into its buffered
		// channel; it is simply not put back in the pool.
		return "", ctx.Err()
	}
}

// take removes up to maxBatch lookups from the queue. Called with mu held.
func (co *coalescer) take() []*lookup {
	n := min(len(co.queue), co.maxBatch)
	batch := make([]*lookup, n)
	copy(batch, co.queue)
	rest := copy(co.queue, co.queue[n:])
	clear(co.queue[rest:])
	co.queue = co.queue[:rest]
	return batch
}

// fly sends batch, then hands whatever queued meanwhile to another
// flight, so that the caller who sent this one is not kept waiting for the
// others.
func (co *coalescer) fly(batch []*lookup) {
	co.send(batch)
	if next := co.next(); next != nil {
		go co.relay(next)
	}
}

func (co *coalescer) relay(batch []*lookup) {
	for batch != nil {
		co.send(batch)
		batch = co.next()
	}
}

// next takes the lookups queued for the flight that just landed, or ends
// that flight when there are none.
func (co *coalescer) next() []*lookup {
	co.mu.Lock()
	defer co.mu.Unlock()
	if len(co.queue) == 0 {
		co.flights--
		if co.flights == 0 {
			co.landed.Broadcast()
		}
		return nil
	}
	return co.take()
}

// send runs one pipeline of GETs. Its context is not any one request's:
// a request that gives up must not fail the others in its batch; the
// client's own timeouts bound it.
func (co *coalescer) send(batch []*lookup) {
	ctx := context.Background()
	if len(batch) == 1 {
		l := batch[0]
		l.val, l.err = co.c.Get(ctx, l.key).Result()
		l.done <- struct{}{}
		return
	}
	cmds := make([]*goredis.StringCmd, len(batch))
	pipe := co.c.Pipeline()
	for i, l := range batch {
		cmds[i] = pipe.Get(ctx, l.key)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, l := range batch {
		l.val, l.err = cmds[i].Result()
		l.done <- struct{}{}
	}
}
