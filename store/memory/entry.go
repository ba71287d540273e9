package memory

import (
	"strings"

	"github.com/gatehouse-go/gatehouse/store"
)

// entry is a token record, kept small: a store holds a million. Times are
// unix nanoseconds (noTime for the zero time); Project, Device and Family
// share one string, which successors share in turn. It is not the byte
// format of package store/internal/record, which would make it larger and
// every Get slower; that package's doc says why. newEntry, successor and
// record are the only code that knows this layout.
//
// spent and lastSeen change only under both the index shard and the token
// shard lock, so a reader holding either sees them settled; prev and next
// belong to the index shard alone; the rest never changes.
type entry struct {
	hash       [32]byte
	subj       *subject
	prev, next *entry
	attrs      string // Project, Device and Family end to end
	projectEnd uint16 // where Project ends in attrs
	deviceEnd  uint16 // where Device ends in attrs
	kind       store.Kind
	assurance  uint8 // fits beside kind and spent, in what was padding
	spent      bool
	issued     int64
	expires    int64
	chainEnd   int64
	authTime   int64
	// lastSeen is when Touch last wrote (noTime for never). Its 8 bytes
	// take the entry from the 112-byte size class to the 128-byte one.
	lastSeen int64
}

// until is when the store forgets e: its expiry, or for a spent entry its
// chain's end when that is later (store.Rotator's contract), so that a
// replay after the spent token's own expiry is still recognised while the
// chain can have live links. It reads spent: the caller holds a lock.
func (e *entry) until() int64 {
	if e.spent && e.chainEnd > e.expires {
		return e.chainEnd
	}
	return e.expires
}

func (e *entry) project() string { return e.attrs[:e.projectEnd] }
func (e *entry) device() string  { return e.attrs[e.projectEnd:e.deviceEnd] }
func (e *entry) family() string  { return e.attrs[e.deviceEnd:] }

// newEntry lays rec out as the entry under hash. like is an entry of the
// same subject, or nil: its attrs are shared when they match.
func newEntry(hash [32]byte, like *entry, rec store.Record) *entry {
	e := &entry{
		hash:      hash,
		kind:      rec.Kind,
		assurance: rec.Assurance,
		issued:    nanos(rec.IssuedAt),
		expires:   nanos(rec.ExpiresAt),
		chainEnd:  nanos(rec.ChainEnd),
		authTime:  nanos(rec.AuthTime),
		lastSeen:  nanos(rec.LastSeen),
	}
	e.setAttrs(like, rec)
	return e
}

// successor returns the entry that rotating e stores under hash: issued
// and expires are its own, it was never touched, every other field is e's
// (store.Rotator's contract lists them), attrs shared.
func (e *entry) successor(hash [32]byte, issued, expires int64) *entry {
	return &entry{
		hash:       hash,
		kind:       e.kind,
		assurance:  e.assurance,
		attrs:      e.attrs,
		projectEnd: e.projectEnd,
		deviceEnd:  e.deviceEnd,
		issued:     issued,
		expires:    expires,
		chainEnd:   e.chainEnd,
		authTime:   e.authTime,
		lastSeen:   noTime,
	}
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
		Assurance: e.assurance,
		LastSeen:  toTime(e.lastSeen),
	}
}
