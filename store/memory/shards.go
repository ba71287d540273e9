package memory

import (
	"sync"
)

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
	mu     sync.RWMutex
	m      map[string]counter
	limits map[string]int64 // rate limits: the theoretical arrival time (GCRA)
	// attempts are login attempt counters by group, then by key: a group
	// lives in one shard, so that one lock covers an attempt's counters.
	attempts map[string]map[string]counter
	idx      int // where it is in Store.counters
	_        [8]byte
}

type tokenKey struct {
	hash [32]byte
	tag  string
}

func (ts *tokenShard) find(k tokenKey) *entry {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return ts.m[k]
}
