package password

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
)

// ErrBusy: no hashing slot came free for this check in time, or the queue
// (or this client's part of it) was full (503 busy). A login answered so
// was never checked, so it counts toward no lockout.
var ErrBusy = problem.New("password: too many password checks in progress", problem.Error{
	Status: http.StatusServiceUnavailable, Code: "busy", Message: "too many logins in progress; try again"})

// SchedulerConfig configures a [Scheduler]. Zero fields mean the defaults.
type SchedulerConfig struct {
	// Slots is how many hashes run at once; default 1.
	Slots int
	// Wait is the longest a check waits in the queue for a slot before it
	// is answered ErrBusy; default 500 ms.
	Wait time.Duration
	// MaxQueue bounds the checks waiting, from all clients; default
	// 16 × Slots. A check that finds the queue full is ErrBusy at once.
	MaxQueue int
	// MaxQueuePerClient bounds the checks one client has waiting; default
	// 4 (a few people behind one address may log in at once). Past it the
	// client's next check is ErrBusy at once, so one client cannot fill
	// the queue that the others need.
	MaxQueuePerClient int
}

// A Scheduler runs password hashes in a fixed number of slots, so that a
// flood of logins keeps cores free for the rest of the app, and hands the
// slots out fairly, so that one client's flood cannot starve the others'
// logins:
//
//   - checks wait in one queue per client, and the queues take turns
//     (round robin), so a client with one login waiting goes next after at
//     most one check of every other waiting client; a client that joins
//     the line goes ahead of those holding a slot (they just had their
//     turn);
//   - a client holds at most its share of the slots (Slots divided by the
//     clients running or waiting, at least one) while others wait;
//   - a client has at most MaxQueuePerClient checks waiting, and the queue
//     at most MaxQueue: a check past either is refused at once, except
//     that a client with nothing waiting that finds the queue full takes
//     the place of the newest check of the client with the most waiting
//     (so a few clients cannot keep every other one out);
//   - a check marked First (a login from a device known to the account)
//     goes before the checks that are not, but never twice in a row while
//     one of those waits: anyone can mark their own logins First (a
//     device known to an account of their own), so First may shorten a
//     wait, never starve the others of more than half the slots.
//
// The client is an opaque string, such as clientaddr.Key of the client's
// network. Checks with the client "" (an app that does not say who asks)
// are one client among the others, with no cap of their own on the queue
// beyond MaxQueue. A Scheduler is safe for concurrent use.
type Scheduler struct {
	wait                  time.Duration
	slots                 int
	maxQueue, maxPerQueue int

	mu      sync.Mutex
	free    int
	waiting int
	clients map[string]*client // clients running or waiting
	// turns holds, per class (0: First, 1: the rest), the clients with a
	// check of that class waiting, in the order they take turns.
	turns [2][]*client
	// firstRan: the last slot handed out from the queue went to a First
	// check, so a plain one waiting goes next.
	firstRan bool
}

type client struct {
	key     string
	running int
	queued  [2][]*waiter // waiting checks per class, oldest first
}

type waiter struct {
	ready   chan struct{}
	granted bool // a slot was given to it (under Scheduler.mu)
	evicted bool // it gave its place to a newcomer: ErrBusy (under Scheduler.mu)
}

// NewScheduler checks cfg and returns a Scheduler.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Slots < 0 || cfg.Wait < 0 || cfg.MaxQueue < 0 || cfg.MaxQueuePerClient < 0 {
		return nil, errors.New("password: negative SchedulerConfig setting")
	}
	s := &Scheduler{slots: cfg.Slots, wait: cfg.Wait, maxQueue: cfg.MaxQueue, maxPerQueue: cfg.MaxQueuePerClient}
	if s.slots == 0 {
		s.slots = 1
	}
	if s.wait == 0 {
		s.wait = 500 * time.Millisecond
	}
	if s.maxQueue == 0 {
		s.maxQueue = 16 * s.slots
	}
	if s.maxPerQueue == 0 {
		s.maxPerQueue = 4
	}
	s.free = s.slots
	s.clients = map[string]*client{}
	return s, nil
}

// Run calls f in a slot, once the client's turn comes. It returns ErrBusy,
// without calling f, when the queue or the client's part of it is full, or
// when no slot came to it within the wait (joined with ctx's error when ctx
// ended first).
func (s *Scheduler) Run(ctx context.Context, clientKey string, first bool, f func()) error {
	c, err := s.acquire(ctx, clientKey, first)
	if err != nil {
		return err
	}
	defer s.release(c)
	f()
	return nil
}

func (s *Scheduler) acquire(ctx context.Context, key string, first bool) (*client, error) {
	class := 1
	if first {
		class = 0
	}
	s.mu.Lock()
	c := s.clients[key]
	if c == nil {
		c = &client{key: key}
		s.clients[key] = c
	}
	if s.free > 0 && s.waiting == 0 {
		s.free--
		c.running++
		s.mu.Unlock()
		return c, nil
	}
	mine := len(c.queued[0]) + len(c.queued[1])
	full := s.waiting >= s.maxQueue
	if full && mine == 0 {
		// A few clients could otherwise keep the whole queue filled and
		// every other client out: a client with nothing waiting takes the
		// place of the newest check of the client with the most waiting.
		full = !s.evictNewest()
	}
	if full || (key != "" && mine >= s.maxPerQueue) {
		s.forget(c)
		s.mu.Unlock()
		return nil, ErrBusy
	}
	w := &waiter{ready: make(chan struct{})}
	if len(c.queued[class]) == 0 {
		s.takeTurn(class, c)
	}
	c.queued[class] = append(c.queued[class], w)
	s.waiting++
	s.dispatch() // a slot may be free with only other clients over their share
	s.mu.Unlock()

	t := time.NewTimer(s.wait)
	defer t.Stop()
	var cause error
	select {
	case <-w.ready:
		s.mu.Lock()
		defer s.mu.Unlock()
		if w.evicted {
			s.forget(c)
			return nil, ErrBusy
		}
		return c, nil
	case <-t.C:
	case <-ctx.Done():
		cause = ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case w.granted: // the slot came as the wait ended: take it
		return c, nil
	case w.evicted: // already out of the queue
		s.forget(c)
		return nil, errors.Join(ErrBusy, cause)
	}
	s.dequeue(c, class, w)
	s.forget(c)
	return nil, errors.Join(ErrBusy, cause)
}

func (s *Scheduler) release(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.running--
	s.free++
	s.forget(c)
	s.dispatch()
}

// dispatch hands free slots to waiting checks: class 0 before class 1,
// but not twice in a row while class 1 waits; within a class the clients
// take turns, and a client at its share of slots is passed over while
// another client can go. Called with s.mu held.
func (s *Scheduler) dispatch() {
	for s.free > 0 && s.waiting > 0 {
		share := max(1, s.slots/len(s.clients))
		order := [2]int{0, 1}
		if s.firstRan {
			order = [2]int{1, 0}
		}
		var next *client
		var class int
		for _, class = range order {
			if next = s.nextTurn(class, share); next != nil {
				break
			}
		}
		if next == nil {
			// Everyone waiting is at their share: the slot would idle, so
			// the first in turn takes it.
			for _, class = range order {
				if next = s.nextTurn(class, int(^uint(0)>>1)); next != nil {
					break
				}
			}
		}
		s.firstRan = class == 0
		w := next.queued[class][0]
		next.queued[class] = next.queued[class][1:]
		if len(next.queued[class]) > 0 {
			s.turns[class] = append(s.turns[class], next) // to the back of the line
		}
		s.waiting--
		s.free--
		next.running++
		w.granted = true
		close(w.ready)
	}
}

// takeTurn puts a client that had nothing waiting in class into its line:
// ahead of the clients that hold a slot now, which have just had their
// turn, and behind those still waiting for one. So a login arriving beside
// a flood waits for the check in the slot and then runs, where joining at
// the back would also let the flooder's next check go first. Called with
// s.mu held.
func (s *Scheduler) takeTurn(class int, c *client) {
	line := s.turns[class]
	for i, t := range line {
		if t.running > 0 {
			s.turns[class] = slices.Insert(line, i, c)
			return
		}
	}
	s.turns[class] = append(line, c)
}

// nextTurn takes off the turn list of class the first client running fewer
// than share checks, or returns nil. Called with s.mu held.
func (s *Scheduler) nextTurn(class, share int) *client {
	for i, c := range s.turns[class] {
		if c.running < share {
			s.turns[class] = append(s.turns[class][:i:i], s.turns[class][i+1:]...)
			return c
		}
	}
	return nil
}

// evictNewest makes room in a full queue: the newest waiting check of the
// client with the most checks waiting (two at least), plain before First,
// is answered ErrBusy. It reports whether it made room. Called with s.mu
// held.
func (s *Scheduler) evictNewest() bool {
	var victim *client
	most := 1
	for _, c := range s.clients {
		if n := len(c.queued[0]) + len(c.queued[1]); n > most {
			victim, most = c, n
		}
	}
	if victim == nil {
		return false
	}
	class := 1
	if len(victim.queued[1]) == 0 {
		class = 0
	}
	w := victim.queued[class][len(victim.queued[class])-1]
	s.dequeue(victim, class, w)
	w.evicted = true
	close(w.ready)
	return true
}

// dequeue removes a waiter that gave up. Called with s.mu held.
func (s *Scheduler) dequeue(c *client, class int, w *waiter) {
	for i, q := range c.queued[class] {
		if q == w {
			c.queued[class] = append(c.queued[class][:i:i], c.queued[class][i+1:]...)
			s.waiting--
			break
		}
	}
	if len(c.queued[class]) == 0 {
		for i, t := range s.turns[class] {
			if t == c {
				s.turns[class] = append(s.turns[class][:i:i], s.turns[class][i+1:]...)
				break
			}
		}
	}
}

// forget drops a client with nothing running or waiting, so the map holds
// only clients in play. Called with s.mu held.
func (s *Scheduler) forget(c *client) {
	if c.running == 0 && len(c.queued[0]) == 0 && len(c.queued[1]) == 0 {
		delete(s.clients, c.key)
	}
}
