package memory

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"strings"
	"sync"
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

// The shards are padded so that two locks rarely share a cache line,
// which would make readers of different shards slow each other down.
type tokenShard struct {
	mu sync.RWMutex
	m  map[tokenKey]*entry
	_  [32]byte
}

type indexShard struct {
	mu sync.RWMutex
	m  map[string]*subject // by subjectKey
	_  [32]byte
}

type counterShard struct {
	mu sync.RWMutex
	m  map[string]counter
	_  [32]byte
}

type tokenKey struct {
	hash [32]byte
	tag  string
}

// subject heads the list of one subject's entries. Its key, the index
// map's key too, is the tag, a colon and the subject's name: a tag has no
// colon, so no two pairs share a key.
type subject struct {
	key    string
	tagLen uint8
	head   *entry
}

func (sub *subject) tag() string  { return sub.key[:sub.tagLen] }
func (sub *subject) name() string { return sub.key[sub.tagLen+1:] }

// subjectKey appends the index key of the tag and subject to buf, so that
// a lookup can build it on the stack.
func subjectKey(buf []byte, tag, subject string) []byte {
	return append(append(append(buf, tag...), ':'), subject...)
}

// entry is a token record, kept small: a store holds a million. Times are
// unix nanoseconds (noTime for the zero time); Project, Device and Family
// share one string, which successors share in turn.
//
// spent changes only under both the index shard and the token shard lock,
// so a reader holding either sees it settled; prev and next belong to the
// index shard alone; the rest never changes.
type entry struct {
	hash       [32]byte
	subj       *subject
	prev, next *entry
	attrs      string // Project, Device and Family end to end
	projectEnd uint16 // where Project ends in attrs
	deviceEnd  uint16 // where Device ends in attrs
	kind       store.Kind
	spent      bool
	issued     int64
	expires    int64
	chainEnd   int64
	authTime   int64
}

func (e *entry) project() string { return e.attrs[:e.projectEnd] }
func (e *entry) device() string  { return e.attrs[e.projectEnd:e.deviceEnd] }
func (e *entry) family() string  { return e.attrs[e.deviceEnd:] }

type counter struct{ n, resetAt int64 }

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

// Put implements [store.Writer]. It fails for an invalid tag or an empty
// subject; a record put already expired only removes what was under id.
func (s *Store) Put(_ context.Context, id store.ID, rec store.Record) error {
	if err := store.CheckPut(id, rec); err != nil {
		return err
	}
	if len(rec.Project)+len(rec.Device) > math.MaxUint16 {
		return errors.New("memory: record's Project and Device longer than 64 KiB")
	}
	now := s.clock()
	is, old := s.lockFind(id, now)
	defer is.mu.Unlock()
	expires := nanos(rec.ExpiresAt)
	if expires <= now {
		if old != nil {
			s.drop(is, old)
		}
		return nil
	}
	if old == nil && !s.reserve() {
		return store.ErrFull
	}
	sub := is.subject(id.Tag, rec.Subject)
	e := &entry{
		hash:     id.Hash,
		kind:     rec.Kind,
		issued:   nanos(rec.IssuedAt),
		expires:  expires,
		chainEnd: nanos(rec.ChainEnd),
		authTime: nanos(rec.AuthTime),
	}
	e.setAttrs(sub.head, rec)
	s.insert(is, sub, e, old)
	return nil
}

// Get implements [store.Reader]. It takes one read lock and does not
// allocate.
func (s *Store) Get(_ context.Context, id store.ID) (store.Record, bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return store.Record{}, false, nil
	}
	ts := s.tokenShard(&id.Hash)
	ts.mu.RLock()
	e := ts.m[tokenKey{id.Hash, id.Tag}]
	if e == nil || e.spent {
		ts.mu.RUnlock()
		return store.Record{}, false, nil
	}
	rec, expires := e.record(), e.expires
	ts.mu.RUnlock()
	// The clock is read last, and outside the lock, because it can cost
	// more than the lookup; an unknown token never pays for it.
	if expires <= s.clock() {
		return store.Record{}, false, nil
	}
	return rec, true, nil
}

// Consume implements [store.Consumer].
func (s *Store) Consume(_ context.Context, id store.ID) (store.Record, bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return store.Record{}, false, nil
	}
	is, e := s.lockFind(id, s.clock())
	defer is.mu.Unlock()
	if e == nil || e.spent {
		return store.Record{}, false, nil
	}
	rec := e.record()
	s.drop(is, e)
	return rec, true, nil
}

// Rotate implements [store.Rotator]. Besides a next with another tag, it
// refuses a next equal to old and a lifetime that is not positive: those
// are mistakes of the caller, and the error does not wrap
// [store.ErrUnavailable].
func (s *Store) Rotate(_ context.Context, old, next store.ID, lifetime time.Duration) (store.Rotation, error) {
	if err := store.CheckRotate(old, next, lifetime); err != nil {
		return store.Rotation{}, err
	}
	if !store.ValidRoutingTag(old.Tag) {
		return store.Rotation{Status: store.RotateMissing}, nil
	}
	now := s.clock()
	is, e := s.lockFind(old, now)
	defer is.mu.Unlock()
	if e == nil {
		return store.Rotation{Status: store.RotateMissing}, nil
	}
	if e.spent {
		family := e.family()
		_, revoked := s.prune(is, e.subj, now, func(x *entry) bool { return x.family() == family })
		return store.Rotation{Status: store.RotateReused, Record: e.record(), Revoked: revoked}, nil
	}

	prev := s.tokenShard(&next.Hash).find(tokenKey{next.Hash, next.Tag})
	if prev == nil && !s.reserve() {
		return store.Rotation{}, store.ErrFull
	}
	expires := addNanos(now, lifetime)
	if e.chainEnd != noTime {
		expires = min(expires, e.chainEnd)
	}
	succ := &entry{
		hash:       next.Hash,
		kind:       e.kind,
		attrs:      e.attrs,
		projectEnd: e.projectEnd,
		deviceEnd:  e.deviceEnd,
		issued:     now,
		expires:    expires,
		chainEnd:   e.chainEnd,
		authTime:   e.authTime,
	}
	ts := s.tokenShard(&e.hash)
	ts.mu.Lock()
	e.spent = true
	ts.mu.Unlock()
	s.insert(is, e.subj, succ, prev)
	return store.Rotation{Status: store.RotateDone, Record: succ.record()}, nil
}

// Delete implements [store.Writer]. An expired record that has not been
// swept yet is removed but not reported.
func (s *Store) Delete(_ context.Context, id store.ID) (bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return false, nil
	}
	is, e := s.lockFind(id, s.clock())
	defer is.mu.Unlock()
	if e == nil {
		return false, nil
	}
	s.drop(is, e)
	return true, nil
}

// DeleteAll implements [store.SubjectIndex]. Spent records are not live, so it
// leaves them: a replay after "log out everywhere" is still recognised.
func (s *Store) DeleteAll(_ context.Context, tag, subject string, f store.Filter) (int, error) {
	if !store.ValidRoutingTag(tag) {
		return 0, nil
	}
	now := s.clock()
	is := s.indexShard(tag)
	is.mu.Lock()
	defer is.mu.Unlock()
	sub := is.find(tag, subject)
	if sub == nil {
		return 0, nil
	}
	_, n := s.prune(is, sub, now, func(x *entry) bool { return f.Match(x.record()) })
	return n, nil
}

// List implements [store.SubjectIndex].
func (s *Store) List(_ context.Context, tag, subject string, f store.Filter) ([]store.Item, error) {
	if !store.ValidRoutingTag(tag) {
		return nil, nil
	}
	now := s.clock()
	is := s.indexShard(tag)
	is.mu.RLock()
	defer is.mu.RUnlock()
	sub := is.find(tag, subject)
	if sub == nil {
		return nil, nil
	}
	var items []store.Item
	for x := sub.head; x != nil; x = x.next {
		if r := x.record(); !x.spent && x.expires > now && f.Match(r) {
			items = append(items, store.Item{ID: store.ID{Tag: tag, Hash: x.hash}, Record: r})
		}
	}
	return items, nil
}

// Hit implements [store.Counters]. It fails for a window that is not
// positive.
func (s *Store) Hit(_ context.Context, key string, window time.Duration) (store.Count, error) {
	if window <= 0 {
		return store.Count{}, fmt.Errorf("memory: counter window %v", window)
	}
	now := s.clock()
	cs := s.counterShard(key)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.m[key]
	if !ok || c.resetAt <= now {
		if !ok {
			if !s.reserve() {
				return store.Count{}, store.ErrFull
			}
			key = strings.Clone(key)
		}
		c = counter{resetAt: addNanos(now, window)}
	}
	c.n++
	cs.m[key] = c
	return store.Count{N: c.n, ResetAt: toTime(c.resetAt)}, nil
}

// Peek implements [store.Counters].
func (s *Store) Peek(_ context.Context, key string) (store.Count, error) {
	now := s.clock()
	cs := s.counterShard(key)
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	c, ok := cs.m[key]
	if !ok || c.resetAt <= now {
		return store.Count{}, nil
	}
	return store.Count{N: c.n, ResetAt: toTime(c.resetAt)}, nil
}

// Reset implements [store.Counters].
func (s *Store) Reset(_ context.Context, key string) error {
	cs := s.counterShard(key)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.m[key]; ok {
		delete(cs.m, key)
		s.size.Add(-1)
	}
	return nil
}

// Sweep deletes every expired entry now and returns how many it deleted.
// The sweeper calls it every [Options.SweepInterval]; tests call it to
// sweep at a moment of their choosing.
func (s *Store) Sweep() int {
	now := s.clock()
	n := 0
	for i := range s.index {
		is := &s.index[i]
		is.mu.Lock()
		for _, sub := range is.m {
			expired, _ := s.prune(is, sub, now, nil)
			n += expired
		}
		is.mu.Unlock()
	}
	for i := range s.counters {
		cs := &s.counters[i]
		cs.mu.Lock()
		for k, c := range cs.m {
			if c.resetAt <= now {
				delete(cs.m, k)
				s.size.Add(-1)
				n++
			}
		}
		cs.mu.Unlock()
	}
	return n
}

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

// lockFind locks the index shard of id's tag and returns it with the entry
// under id, live or spent; an expired entry is dropped and not returned.
// The caller unlocks the shard.
func (s *Store) lockFind(id store.ID, now int64) (*indexShard, *entry) {
	is := s.indexShard(id.Tag)
	is.mu.Lock()
	e := s.tokenShard(&id.Hash).find(tokenKey{id.Hash, id.Tag})
	if e != nil && e.expires <= now {
		s.drop(is, e)
		e = nil
	}
	return is, e
}

// insert files the new entry e (whose room is reserved) under sub, in
// place of old if there is one. The caller holds is.
func (s *Store) insert(is *indexShard, sub *subject, e *entry, old *entry) {
	e.subj = sub
	e.next = sub.head
	if sub.head != nil {
		sub.head.prev = e
	}
	sub.head = e
	if old != nil {
		is.unlink(old) // its map slot is e's now
	}
	ts := s.tokenShard(&e.hash)
	ts.mu.Lock()
	ts.m[tokenKey{e.hash, sub.tag()}] = e
	ts.mu.Unlock()
}

// drop removes e from the store. The caller holds is.
func (s *Store) drop(is *indexShard, e *entry) {
	ts := s.tokenShard(&e.hash)
	ts.mu.Lock()
	delete(ts.m, tokenKey{e.hash, e.subj.tag()})
	ts.mu.Unlock()
	is.unlink(e)
	s.size.Add(-1)
}

// prune drops the subject's expired entries, and its live entries that
// match (if match is not nil), and returns how many of each it dropped.
// The caller holds is.
func (s *Store) prune(is *indexShard, sub *subject, now int64, match func(*entry) bool) (expired, matched int) {
	for x := sub.head; x != nil; {
		next := x.next
		switch {
		case x.expires <= now:
			s.drop(is, x)
			expired++
		case match != nil && !x.spent && match(x):
			s.drop(is, x)
			matched++
		}
		x = next
	}
	return expired, matched
}

func (is *indexShard) find(tag, subject string) *subject {
	var buf [64]byte
	return is.m[string(subjectKey(buf[:0], tag, subject))]
}

// subject returns the subject, added to the index if it is new. A subject
// with no entries must not stay, so the caller files one at once.
func (is *indexShard) subject(tag, name string) *subject {
	if sub := is.find(tag, name); sub != nil {
		return sub
	}
	sub := &subject{key: string(subjectKey(nil, tag, name)), tagLen: uint8(len(tag))}
	is.m[sub.key] = sub
	return sub
}

// setAttrs fills in Project, Device and Family. It shares like's string
// when the values are the same, as they are for most records of one
// subject, and otherwise copies them, so that a record never pins a
// caller's larger buffer (a request body) in memory.
func (e *entry) setAttrs(like *entry, r store.Record) {
	e.projectEnd = uint16(len(r.Project))
	e.deviceEnd = e.projectEnd + uint16(len(r.Device))
	if like != nil && like.project() == r.Project && like.device() == r.Device && like.family() == r.Family {
		e.attrs = like.attrs
		return
	}
	var b strings.Builder
	b.Grow(len(r.Project) + len(r.Device) + len(r.Family))
	b.WriteString(r.Project)
	b.WriteString(r.Device)
	b.WriteString(r.Family)
	e.attrs = b.String()
}

func (ts *tokenShard) find(k tokenKey) *entry {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return ts.m[k]
}

// unlink takes e out of its subject's list, and the subject out of the
// index once it has no entries left, so that nothing of it lingers.
func (is *indexShard) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		e.subj.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	e.prev, e.next = nil, nil
	if e.subj.head == nil {
		delete(is.m, e.subj.key)
	}
}

func (e *entry) record() store.Record {
	return store.Record{
		Kind:      e.kind,
		Subject:   e.subj.name(),
		Project:   e.project(),
		Device:    e.device(),
		Family:    e.family(),
		IssuedAt:  toTime(e.issued),
		ExpiresAt: toTime(e.expires),
		ChainEnd:  toTime(e.chainEnd),
		AuthTime:  toTime(e.authTime),
	}
}

// noTime stands for the zero time.Time, which unix nanoseconds cannot
// hold. It sorts before every real time, so a zero expiry is in the past.
const noTime = math.MinInt64

// Unix nanoseconds end in 2262; later times are kept as the last one.
const maxSeconds = math.MaxInt64/int64(time.Second) - 1

func nanos(t time.Time) int64 {
	switch sec := t.Unix(); {
	case t.IsZero():
		return noTime
	case sec > maxSeconds:
		return math.MaxInt64
	case sec < -maxSeconds:
		return noTime + 1
	}
	return t.UnixNano()
}

func toTime(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// addNanos returns now+d, stopping at the largest time instead of wrapping.
func addNanos(now int64, d time.Duration) int64 {
	if now > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return now + int64(d)
}

type sweeper struct {
	stop chan struct{}
	done chan struct{}
	kick chan struct{} // asks for a sweep before the next tick
	once sync.Once
}

func (w *sweeper) halt() { w.once.Do(func() { close(w.stop) }) }

func (w *sweeper) nudge() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// kickGap spaces out the sweeps a full store asks for: each one walks the
// whole store, and a flood of refused writes must not turn into a flood
// of sweeps.
const kickGap = time.Second

func (w *sweeper) run(s weak.Pointer[Store], every time.Duration) {
	defer close(w.done)
	t := time.NewTicker(every)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		case <-w.kick:
			if time.Since(last) < kickGap {
				continue
			}
		}
		st := s.Value()
		if st == nil {
			return
		}
		st.Sweep()
		last = time.Now()
	}
}
