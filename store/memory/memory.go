package memory

import (
	"hash/maphash"
	"runtime"
	"sync/atomic"
	"time"
	"weak"

	"github.com/gatehouse-go/gatehouse/store"
)

var _ store.Store = (*Store)(nil)

// Options configures a [Store]. The zero Options is ready to use.
type Options struct {
	// MaxRecords caps the token records the store holds, spent ones
	// included: sessions, device tokens and the one-time tokens. Storing
	// a new record beyond it fails with [store.ErrFull]; replacing an
	// existing one does not. Expired records count until they are swept,
	// and a full store wakes the sweeper early (at most once a second) to
	// make room. Zero means 1,000,000.
	MaxRecords int
	// MaxCounters caps, apart from the tokens, what requests from anyone
	// can create: counters ([store.Counters]), rate limits
	// ([store.Limits]) and login attempt counters ([store.Attempts]). A
	// flood of anonymous requests creates only these: it can fill this
	// budget, never take the room of a session. Zero means 1,000,000.
	//
	// When it is full, a new entry takes the place of one that no lock
	// depends on: an expired entry, a rate limit (its client gets its
	// burst back early), or an attempt counter below its limit (its count
	// starts over early), whichever of a few sampled expires soonest, so
	// that the least is forgotten and a flood's own spent limits go last.
	// It never evicts an attempt counter that has reached its limit, so a
	// flood cannot lift a lock, nor a live plain counter, whose limit
	// only its caller knows. With nothing to evict, the new entry fails
	// with [store.ErrFull]: the store fails closed rather than forget a
	// lock. [Store.Usage] counts the evictions.
	MaxCounters int
	// SweepInterval is how often a background goroutine deletes expired
	// entries. Zero means one minute; a negative interval starts no
	// goroutine, and expired entries then go only when [Store.Sweep] is
	// called.
	SweepInterval time.Duration
	// Now is the clock every expiry decision is taken by. Nil means
	// [time.Now].
	Now func() time.Time
}

const (
	defaultMaxRecords    = 1_000_000
	defaultMaxCounters   = 1_000_000
	defaultSweepInterval = time.Minute

	tokenShards   = 256 // one per value of the hash's first byte
	indexShards   = 64
	counterShards = 64
)

// Store is an in-memory [store.Store]. Create one with [New]; it is safe
// for concurrent use.
type Store struct {
	now func() time.Time
	// Two budgets, each an entry count held against its cap, expired
	// entries included: token records, and everything else.
	maxTokens, maxCounters int64
	tokenCount             atomic.Int64
	counterCount           atomic.Int64
	evicted                atomic.Int64 // counter-budget entries evicted for room
	seed                   maphash.Seed

	// A token lives in the token shard of its hash's first byte, so that
	// lookups spread evenly, and in the list of its subject, which lives
	// in the index shard of its tag.
	//
	// Every change takes the index shard first, then at most one token
	// shard at a time, so changes never deadlock. Because a token's key
	// includes its tag, every change to a tag's tokens happens under that
	// tag's index shard: holding it, the entries and map slots of the
	// tag's tokens stand still, and only readers run beside.
	tokens   [tokenShards]tokenShard
	index    [indexShards]indexShard
	counters [counterShards]counterShard // each knows its index, for eviction

	sweeper *sweeper
}

// New returns a store configured by opts, with its sweeper running.
func New(opts Options) *Store {
	s := &Store{now: opts.Now, maxTokens: int64(opts.MaxRecords), maxCounters: int64(opts.MaxCounters), seed: maphash.MakeSeed()}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxTokens <= 0 {
		s.maxTokens = defaultMaxRecords
	}
	if s.maxCounters <= 0 {
		s.maxCounters = defaultMaxCounters
	}
	for i := range s.tokens {
		s.tokens[i].m = make(map[tokenKey]*entry)
	}
	for i := range s.index {
		s.index[i].m = make(map[string]*subject)
	}
	for i := range s.counters {
		s.counters[i].idx = i
		s.counters[i].m = make(map[string]counter)
		s.counters[i].limits = make(map[string]int64)
		s.counters[i].attempts = make(map[string]map[string]counter)
	}
	every := opts.SweepInterval
	if every == 0 {
		every = defaultSweepInterval
	}
	if every > 0 {
		w := &sweeper{stop: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1)}
		s.sweeper = w
		// The goroutine holds the store only weakly, so a store dropped
		// without Close can still be collected, and that stops it.
		runtime.AddCleanup(s, (*sweeper).halt, w)
		go w.run(weak.Make(s), every)
	}
	return s
}

// Close stops the sweeper and waits for it to finish. The store still
// answers afterwards; only expired entries stay until [Store.Sweep].
// Close may be called more than once.
func (s *Store) Close() error {
	if w := s.sweeper; w != nil {
		w.halt()
		<-w.done
	}
	return nil
}

// Len returns the number of entries the store holds, token records and
// counters together, counting expired ones that have not been swept yet.
func (s *Store) Len() int { return int(s.tokenCount.Load() + s.counterCount.Load()) }

// Usage is what a [Store] holds against each of its budgets, expired
// entries that have not been swept yet included.
type Usage struct {
	Tokens   int // token records, against Options.MaxRecords
	Counters int // counters, rate limits and attempt counters, against Options.MaxCounters
	// Evicted counts the entries of the counter budget evicted to make
	// room for new ones since [New].
	Evicted int64
}

// Usage returns what the store holds now. Its fields are read one after
// the other, not at one instant.
func (s *Store) Usage() Usage {
	return Usage{Tokens: int(s.tokenCount.Load()), Counters: int(s.counterCount.Load()), Evicted: s.evicted.Load()}
}

func (s *Store) tokenShard(h *[32]byte) *tokenShard { return &s.tokens[h[0]] }

func (s *Store) indexShard(tag string) *indexShard {
	return &s.index[maphash.String(s.seed, tag)%indexShards]
}

func (s *Store) counterShard(key string) *counterShard {
	return &s.counters[maphash.String(s.seed, key)%counterShards]
}

func (s *Store) clock() int64 { return nanos(s.now()) }

// reserveToken takes room for one new token record, or reports that
// there is none.
func (s *Store) reserveToken() bool {
	if take(&s.tokenCount, s.maxTokens) {
		return true
	}
	s.nudge()
	return false
}

// take adds one to count unless it has reached max.
func take(count *atomic.Int64, max int64) bool {
	for {
		n := count.Load()
		if n >= max {
			return false
		}
		if count.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// nudge wakes the sweeper early: a budget is full.
func (s *Store) nudge() {
	if s.sweeper != nil {
		s.sweeper.nudge()
	}
}
