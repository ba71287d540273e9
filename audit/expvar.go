package audit

import (
	"expvar"
	"sync"
	"time"
)

// Expvar is Metrics published through package expvar (and so on
// /debug/vars of a server that imports it): a count per event, and per
// store operation and for hashing a count, a failure count and the total
// and the largest duration in microseconds. It is the smallest real
// implementation; wire the interface to your metrics system the same way.
type Expvar struct {
	events *expvar.Map
	timing *expvar.Map
	mu     sync.Mutex
	maxes  map[string]*expvar.Int
}

// NewExpvar publishes the metrics under name, which must be unused.
func NewExpvar(name string) *Expvar {
	e := &Expvar{events: new(expvar.Map), timing: new(expvar.Map), maxes: map[string]*expvar.Int{}}
	root := expvar.NewMap(name)
	root.Set("events", e.events)
	root.Set("timing", e.timing)
	return e
}

// Count implements Metrics.
func (e *Expvar) Count(ev Event) { e.events.Add(string(ev), 1) }

// ObserveHash implements Metrics.
func (e *Expvar) ObserveHash(d time.Duration) { e.observe("hash", d, false) }

// ObserveStore implements Metrics.
func (e *Expvar) ObserveStore(op string, d time.Duration, failed bool) {
	e.observe("store_"+op, d, failed)
}

func (e *Expvar) observe(name string, d time.Duration, failed bool) {
	us := d.Microseconds()
	e.timing.Add(name+"_count", 1)
	e.timing.Add(name+"_us_total", us)
	if failed {
		e.timing.Add(name+"_failures", 1)
	}
	e.mu.Lock()
	m := e.maxes[name]
	if m == nil {
		m = new(expvar.Int)
		e.maxes[name] = m
		e.timing.Set(name+"_us_max", m)
	}
	if us > m.Value() {
		m.Set(us)
	}
	e.mu.Unlock()
}
