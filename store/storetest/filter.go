package storetest

import (
	"fmt"
	"maps"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var deleteAllCases = []testCase{
	{"Filters", testDeleteAllFilters},
}

var listCases = []testCase{
	{"Filters", testListFilters},
	{"OnlyLive", testListOnlyLive},
}

// filterRows name, by the records of [env.household], what each filter
// matches.
var filterRows = []struct {
	f    store.Filter
	want []string
}{
	{store.Filter{}, []string{"s1", "s2", "l1", "d1", "d2"}},
	{store.Filter{Project: "p1"}, []string{"s1", "l1"}},
	{store.Filter{Kind: store.KindSession}, []string{"s1", "s2"}},
	{store.Filter{Device: "d1"}, []string{"s1", "d1"}},
	{store.Filter{Family: "f2"}, []string{"s2", "d2"}},
	{store.Filter{Kind: store.KindSession, Project: "p1"}, []string{"s1"}},
	{store.Filter{Kind: store.KindDevice, Device: "d2", Family: "f2"}, []string{"d2"}},
	{store.Filter{Project: "p9"}, nil},
	{store.Filter{Kind: store.KindReset}, nil},
}

// household stores a subject's sessions, login token and device tokens,
// and the same again for a neighbour subject and under a neighbour tag
// (a different subject key with the same name), and returns the subject's.
func (e *env) household(subject string) map[string]store.Item {
	e.Helper()
	mk := func(kind store.Kind, project, device, family string) store.Record {
		r := e.rec(kind, subject)
		r.Project, r.Device, r.Family = project, device, family
		return r
	}
	recs := map[string]store.Record{
		"s1": mk(store.KindSession, "p1", "d1", "f1"),
		"s2": mk(store.KindSession, "p2", "d2", "f2"),
		"l1": mk(store.KindLogin, "p1", "", ""),
		"d1": mk(store.KindDevice, "", "d1", "f1"),
		"d2": mk(store.KindDevice, "", "d2", "f2"),
	}
	items := make(map[string]store.Item)
	for name, r := range recs {
		items[name] = store.Item{ID: e.putNew(r), Record: r}
		n := r
		n.Subject = "neighbour-of-" + subject
		e.putNew(n)
		e.put(idWithTag("t1"), r)
	}
	return items
}

func pick(items map[string]store.Item, names ...string) map[store.ID]store.Record {
	m := make(map[store.ID]store.Record)
	for _, n := range names {
		m[items[n].ID] = items[n].Record
	}
	return m
}

func testDeleteAllFilters(e *env) {
	for i, row := range filterRows {
		subject := fmt.Sprintf("user-%d", i)
		items := e.household(subject)
		n, err := e.s.DeleteAll(e.ctx, tag, subject, row.f)
		if err != nil || n != len(row.want) {
			e.Errorf("DeleteAll(%+v) = (%d, %v), want (%d, nil)", row.f, n, err, len(row.want))
		}
		rest := maps.Clone(items)
		for _, name := range row.want {
			e.wantMiss(items[name].ID, "after DeleteAll of "+name)
			delete(rest, name)
		}
		left := make(map[store.ID]store.Record)
		for _, it := range rest {
			left[it.ID] = it.Record
		}
		e.wantList(subject, store.Filter{}, left)
		if got := len(e.list("neighbour-of-"+subject, store.Filter{})); got != 5 {
			e.Errorf("DeleteAll(%+v) touched another subject: it has %d records, want 5", row.f, got)
		}
		got, err := e.s.List(e.ctx, "t1", subject, store.Filter{})
		if err != nil || len(got) != 5 {
			e.Errorf("DeleteAll(%+v) touched the subject under another tag: it has %d records (%v), want 5", row.f, len(got), err)
		}
	}
}

func testListFilters(e *env) {
	items := e.household("user")
	for _, row := range filterRows {
		e.wantList("user", row.f, pick(items, row.want...))
	}
	e.wantList("nobody", store.Filter{}, nil)
}

// testListOnlyLive: spent and expired records are not listed and not
// counted by DeleteAll.
func testListOnlyLive(e *env) {
	spent := e.putNew(e.device("user", "fam", "phone"))
	next := newID()
	succ := e.rotate(spent, next, time.Hour).Record
	short := e.rec(store.KindSession, "user")
	short.ExpiresAt = e.clk.Now().Add(time.Second)
	e.putNew(short)
	e.clk.Advance(time.Second)
	e.wantList("user", store.Filter{}, map[store.ID]store.Record{next: succ})
	if n, err := e.s.DeleteAll(e.ctx, tag, "user", store.Filter{}); n != 1 || err != nil {
		e.Fatalf("DeleteAll = (%d, %v), want (1, nil): only the successor is live", n, err)
	}
	// Whether the spent record outlives DeleteAll is the store's choice;
	// a replay must not rotate either way.
	if rot := e.rotate(spent, newID(), time.Hour); rot.Status == store.RotateDone {
		e.Fatal("a spent record rotated after DeleteAll")
	}
}
