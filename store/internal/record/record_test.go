package record_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/internal/record"
)

// awkward are records whose strings and numbers stress the format: bytes
// that are separators of the header, NUL, invalid UTF-8, empty and long
// strings, kinds and levels past one digit, zero and far times.
func awkward() map[string]store.Record {
	at := func(ms int64) time.Time { return record.Time(ms) }
	return map[string]store.Record{
		"plain": {Kind: store.KindSession, Subject: "user-1", Project: "p", Device: "phone", Family: "f",
			IssuedAt: at(1_700_000_000_000), ExpiresAt: at(1_700_000_360_000),
			ChainEnd: at(1_707_776_000_000), AuthTime: at(1_699_999_999_999), Assurance: 2,
			LastSeen: at(1_700_000_100_000)},
		"zero times": {Kind: store.KindLogin, Subject: "s"},
		"separators": {Kind: store.KindDevice, Subject: "a,b;c", Project: ";;", Device: ",", Family: "2,1;0"},
		"nul":        {Kind: store.KindReset, Subject: "\x00", Project: "a\x00b", Device: "\x00\x00", Family: "x\x00"},
		"invalid utf-8": {Kind: store.KindVerification, Subject: "\xff\xfe", Project: "\xc3\x28", Device: "\xed\xa0\x80",
			Family: "\x80", ExpiresAt: at(1)},
		"empty strings":    {Kind: store.KindAppCredential, Subject: "", ExpiresAt: at(-1)},
		"long":             {Kind: store.KindSession, Subject: strings.Repeat("s", 70_000), Device: strings.Repeat("d\x00,", 5000)},
		"kind above nine":  {Kind: 10, Subject: "k", Assurance: 10},
		"largest kind":     {Kind: 255, Subject: "k", Assurance: 255},
		"largest times":    {Kind: 16, Subject: "t", ExpiresAt: at(record.MaxMillis), IssuedAt: at(-record.MaxMillis), ChainEnd: at(record.MaxMillis - 1), AuthTime: at(-1), LastSeen: at(-record.MaxMillis)},
		"version-like":     {Kind: 0x20, Subject: "2", Project: "1", Device: "0", Family: "2011"},
		"before the epoch": {Kind: 1, Subject: "old", IssuedAt: at(-86_400_000), ExpiresAt: at(-1_000), LastSeen: at(-2)},
	}
}

func TestRoundTrip(t *testing.T) {
	for name, r := range awkward() {
		for _, spent := range []bool{false, true} {
			d, err := record.Decode(string(record.Encode(r, spent)))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if d.Record != r || d.Spent != spent || d.Expires != record.Millis(r.ExpiresAt) {
				t.Errorf("%s, spent %v: decoded %+v, want %+v", name, spent, d, r)
			}
		}
	}
}

func TestEncoding(t *testing.T) {
	r := store.Record{Kind: 11, Assurance: 3, Subject: "ab", Project: "c", Family: "fam",
		ExpiresAt: time.UnixMilli(20), IssuedAt: time.UnixMilli(10), AuthTime: time.UnixMilli(-5),
		LastSeen: time.UnixMilli(15)}
	const want = "300b03,20,10,0,-5,15,2,1,0,3;abcfam"
	if got := string(record.Encode(r, false)); got != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
	if got := string(record.Encode(r, true)); got != "31"+want[2:] {
		t.Errorf("Encode spent = %q", got)
	}
}

// TestVersion1 reads records as the store wrote them before the version
// byte, so that tokens issued before an upgrade stay valid.
func TestVersion1(t *testing.T) {
	d, err := record.Decode("13,1700000360000,1700000000000,0,1699999999999,4,1,5,2;userpphoneff")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Record{Kind: store.KindDevice, Subject: "user", Project: "p", Device: "phone", Family: "ff",
		ExpiresAt: time.UnixMilli(1700000360000), IssuedAt: time.UnixMilli(1700000000000),
		AuthTime: time.UnixMilli(1699999999999)}
	if d.Record != want || !d.Spent || d.Expires != 1700000360000 {
		t.Errorf("decoded %+v, want %+v, spent", d, want)
	}
}

// TestVersion2 reads records as the store wrote them before LastSeen:
// never touched, so that sessions issued before an upgrade stay valid and
// their idle time counts from their issue.
func TestVersion2(t *testing.T) {
	d, err := record.Decode("200b03,20,10,0,-5,2,1,0,3;abcfam")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Record{Kind: 11, Assurance: 3, Subject: "ab", Project: "c", Family: "fam",
		ExpiresAt: time.UnixMilli(20), IssuedAt: time.UnixMilli(10), AuthTime: time.UnixMilli(-5)}
	if d.Record != want || d.Spent || d.Expires != 20 {
		t.Errorf("decoded %+v, want %+v", d, want)
	}
}

func TestCorrupt(t *testing.T) {
	for _, v := range []string{
		"", "2", "20", "2001", "200101,", "3001,1,1,1,1,0,0,0,0;",
		"20g101,1,1,1,1,0,0,0,0;", "2201,1,1,1,1,0,0,0,0;",
		"200101,1,1,1,1,0,0,0,1;",   // a string shorter than its length
		"200101,1,1,1,1,0,0,0,0;x",  // a byte past the strings
		"200101,1,1,1,0,0,0,0;",     // a number missing
		"200101,1,1,1,1,-1,0,0,1;x", // a negative length
		"200101,+1,1,1,1,0,0,0,0;",
		"200101,9007199254740992,1,1,1,0,0,0,0;", // past MaxMillis
		"200101,1,1,1,1,0,0,0,99999999999999999999;",
		"0a,1,1,1,1,0,0,0,0;", "21,1,1,1,1,0,0,0,0;x",
		"300101,1,1,1,1,0,0,0,0;",    // version 3 without its fifth time
		"300101,1,1,1,1,1,0,0,0,1;",  // a string shorter than its length
		"300101,1,1,1,1,+1,0,0,0,0;", // a signed time written with +
		"300101,1,1,1,1,9007199254740992,0,0,0,0;",
		"200101,1,1,1,1,1,0,0,0,0;", // version 2 with a fifth time
		"330101,1,1,1,1,1,0,0,0,0;",
	} {
		if d, err := record.Decode(v); err != record.ErrCorrupt {
			t.Errorf("Decode(%q) = %+v, %v; want ErrCorrupt", v, d, err)
		}
	}
}

func TestMillisBounds(t *testing.T) {
	far := time.Date(300_000, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := record.Millis(far); got != record.MaxMillis {
		t.Errorf("Millis(year 300000) = %d, want MaxMillis", got)
	}
	if got := record.Millis(time.Date(-300_000, 1, 1, 0, 0, 0, 0, time.UTC)); got != -record.MaxMillis {
		t.Errorf("Millis(year -300000) = %d, want -MaxMillis", got)
	}
	if got := record.Millis(time.Time{}); got != 0 {
		t.Errorf("Millis(zero) = %d", got)
	}
}

// FuzzDecode: no input panics, and whatever decodes encodes to a record
// that decodes to the same record.
func FuzzDecode(f *testing.F) {
	for _, r := range awkward() {
		f.Add(string(record.Encode(r, false)))
	}
	f.Add("13,1700000360000,1700000000000,0,1699999999999,4,1,5,2;userpphoneff")
	f.Add("200101,-0,007,1,1,0,0,0,0;")
	f.Add("200b03,20,10,0,-5,2,1,0,3;abcfam")
	f.Fuzz(func(t *testing.T, v string) {
		d, err := record.Decode(v)
		if err != nil {
			return
		}
		again, err := record.Decode(string(record.Encode(d.Record, d.Spent)))
		if err != nil || again != d {
			t.Fatalf("Decode(%q) = %+v; encoded and decoded again: %+v, %v", v, d, again, err)
		}
	})
}

// FuzzEncode: every record with times the format holds survives
// Encode then Decode unchanged.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(1), uint8(0), "user", "", "", "", int64(0), int64(0), int64(0), int64(0), int64(0), false)
	f.Add(uint8(200), uint8(9), "a,b;", "\x00", "\xff", "2", int64(-1), int64(1), int64(record.MaxMillis), int64(-record.MaxMillis), int64(7), true)
	f.Fuzz(func(t *testing.T, kind, level uint8, s, p, d, fam string, e, i, c, a, l int64, spent bool) {
		clamp := func(ms int64) time.Time { return record.Time(max(-record.MaxMillis, min(record.MaxMillis, ms))) }
		r := store.Record{Kind: store.Kind(kind), Assurance: level, Subject: s, Project: p, Device: d, Family: fam,
			ExpiresAt: clamp(e), IssuedAt: clamp(i), ChainEnd: clamp(c), AuthTime: clamp(a), LastSeen: clamp(l)}
		got, err := record.Decode(string(record.Encode(r, spent)))
		if err != nil || got.Record != r || got.Spent != spent {
			t.Fatalf("%+v, spent %v: decoded %+v, %v", r, spent, got, err)
		}
	})
}
