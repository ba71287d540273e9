package record_test

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/internal/record"
)

// echo decodes ARGV[1] with the shared Lua parser and answers it encoded
// again, then its successor issued at ARGV[2] and expiring at ARGV[3], and
// then the record marked spent, as the rotate script writes it.
var echo = goredis.NewScript(record.Lua + `
local r = parse(ARGV[1])
if not r then return redis.error_reply('parse failed') end
local out = {encode(r), encode(successor(r, tonumber(ARGV[2]), tonumber(ARGV[3])))}
r.spent = true
out[3] = encode(r)
return out
`)

// TestLuaRoundTrip holds the two sides of the format together: a record
// encoded in Go, parsed and re-encoded by the Lua that store/redis runs,
// decodes in Go to the same record, byte for byte the same encoding.
func TestLuaRoundTrip(t *testing.T) {
	srv := redistest.Standalone(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	t.Cleanup(func() { c.Close() })
	ctx := t.Context()
	issued, expires := time.UnixMilli(1_800_000_000_123), time.UnixMilli(1_800_000_600_456)
	cases := awkward()
	// A record as the store wrote it before the version byte: Lua must
	// read it and write it back in the current version.
	v1 := "03,1700000360000,1700000000000,0,1699999999999,4,1,5,2;userpphoneff"
	for name, r := range cases {
		for _, spent := range []bool{false, true} {
			in := string(record.Encode(r, spent))
			res, err := echo.Run(ctx, c, nil, in, issued.UnixMilli(), expires.UnixMilli()).StringSlice()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res[0] != in {
				t.Errorf("%s: Lua re-encoded\n%q\nas\n%q", name, in, res[0])
			}
			check(t, name+" re-encoded", res[0], r, spent)
			succ := r
			succ.IssuedAt, succ.ExpiresAt, succ.LastSeen = issued, expires, time.Time{}
			check(t, name+" successor", res[1], succ, false)
			check(t, name+" marked spent", res[2], r, true)
		}
	}
	res, err := echo.Run(ctx, c, nil, v1, issued.UnixMilli(), expires.UnixMilli()).StringSlice()
	if err != nil {
		t.Fatalf("version 1: %v", err)
	}
	want, err := record.Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	if res[0][0] != record.Version {
		t.Errorf("version 1 re-encoded as %q, want version %c", res[0], record.Version)
	}
	check(t, "version 1", res[0], want.Record, false)

	// A record as the store wrote it before LastSeen, version 2: read as
	// never touched, written back in the current version.
	v2 := "210b03,1700000360000,1700000000000,0,-5,2,1,0,3;abcfam"
	res, err = echo.Run(ctx, c, nil, v2, issued.UnixMilli(), expires.UnixMilli()).StringSlice()
	if err != nil {
		t.Fatalf("version 2: %v", err)
	}
	if want, err = record.Decode(v2); err != nil {
		t.Fatal(err)
	}
	if res[0][0] != record.Version || !want.Record.LastSeen.IsZero() {
		t.Errorf("version 2 re-encoded as %q, want version %c; decoded %+v", res[0], record.Version, want.Record)
	}
	check(t, "version 2", res[0], want.Record, true)

	// What Go refuses, Lua refuses: both sides agree on what a record is.
	for _, v := range []string{"", "2", "3", "200101,1,1,1,1,0,0,0,1;", "200101,1,1,1,1,0,0,0,0;x",
		"200101,9007199254740992,1,1,1,0,0,0,0;", "0a,1,1,1,1,0,0,0,0;", "2201,1,1,1,1,0,0,0,0;",
		"300101,1,1,1,1,0,0,0,0;", "300101,1,1,1,1,1,0,0,0,1;", "200101,1,1,1,1,1,0,0,0,0;",
		"300101,1,1,1,1,-9007199254740992,0,0,0,0;", "3201,1,1,1,1,1,0,0,0,0;"} {
		if _, err := record.Decode(v); err == nil {
			t.Fatalf("Go decodes %q", v)
		}
		if err := echo.Run(ctx, c, nil, v, 0, 0).Err(); err == nil {
			t.Errorf("Lua parses %q, which Go refuses", v)
		}
	}
}

func check(t *testing.T, what, v string, want store.Record, spent bool) {
	t.Helper()
	d, err := record.Decode(v)
	if err != nil {
		t.Errorf("%s: Decode(%.80q): %v", what, v, err)
		return
	}
	if d.Record != want || d.Spent != spent {
		t.Errorf("%s: got %+v (spent %v), want %+v (spent %v)", what, d.Record, d.Spent, want, spent)
	}
	if again := string(record.Encode(d.Record, d.Spent)); again != v {
		t.Errorf("%s: Lua wrote %.80q, Go writes %.80q", what, v, again)
	}
}
