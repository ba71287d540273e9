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
	// MaxRecords caps the entries the store holds: token records, spent
	// ones included, and counters. Storing a new entry beyond it fails
	// with [store.ErrFull]; replacing or updating an existing one does
	// not. Expired entries count until they are swept, and a full store
	// wakes the sweeper early (at most once a second) to make room. Zero
	// means 1,000,000.
	MaxRecords int
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
	defaultSweepInterval = time.Minute

	tokenShards   = 256 // one per value of the hash's first byte
	indexShards   = 64
	counterShards = 64
)

// Store is an in-memory [store.Store]. Create one with [New]; it is safe
// for concurrent use.
type Store struct {
	now  func() time.Time
	max  int64
	size atomic.Int64 // entries held, expired or not
	seed maphash.Seed

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
	counters [counterShards]counterShard

	sweeper *sweeper
}

// New returns a store configured by opts, with its sweeper running.
func New(opts Options) *Store {
	s := &Store{now: opts.Now, max: int64(opts.MaxRecords), seed: maphash.MakeSeed()}
	if s.now == nil {
		s.now = time.Now
	}
	if s.max <= 0 {
		s.max = defaultMaxRecords
	}
	for i := range s.tokens {
		s.tokens[i].m = make(map[tokenKey]*entry)
	}
	for i := range s.index {
		s.index[i].m = make(map[string]*subject)
	}
	for i := range s.counters {
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

// Len returns the number of entries the store holds, counting expired
// ones that have not been swept yet.
func (s *Store) Len() int { return int(s.size.Load()) }

func (s *Store) tokenShard(h *[32]byte) *tokenShard { return &s.tokens[h[0]] }

func (s *Store) indexShard(tag string) *indexShard {
	return &s.index[maphash.String(s.seed, tag)%indexShards]
}

func (s *Store) counterShard(key string) *counterShard {
	return &s.counters[maphash.String(s.seed, key)%counterShards]
}

func (s *Store) clock() int64 { return nanos(s.now()) }

// reserve takes room for one new entry, or reports that there is none.
func (s *Store) reserve() bool {
	for {
		n := s.size.Load()
		if n >= s.max {
			if s.sweeper != nil {
				s.sweeper.nudge()
			}
			return false
		}
		if s.size.CompareAndSwap(n, n+1) {
			return true
		}
	}
}
