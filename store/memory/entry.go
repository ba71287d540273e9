package memory

import (
	"strings"

	"github.com/gatehouse-go/gatehouse/store"
)

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
	}
}
