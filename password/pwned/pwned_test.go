package pwned

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
)

// rangeServer is a local server that speaks the range protocol, from a
// table of passwords and counts, with knobs for the ways a real one can
// go wrong.
type rangeServer struct {
	*httptest.Server
	known     map[string]int // password → count
	lower     bool           // answer with lower-case hex
	pad       int            // zero-count lines to add when asked
	status    int            // answer this status instead, when not 0
	body      string         // answer this body instead, when not ""
	delay     time.Duration  // wait this long before answering
	requests  atomic.Int32
	mu        sync.Mutex
	prefixes  []string // asked, in order
	paddingOn []bool   // whether each request asked for padding
}

func newRangeServer(t *testing.T, known map[string]int) *rangeServer {
	s := &rangeServer{known: known, pad: 800}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func sha1Hex(pw string) string {
	sum := sha1.Sum([]byte(pw))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func (s *rangeServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
	s.mu.Lock()
	s.prefixes = append(s.prefixes, prefix)
	s.paddingOn = append(s.paddingOn, r.Header.Get("Add-Padding") == "true")
	s.mu.Unlock()
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return
		}
	}
	if !ok || len(prefix) != 5 || r.Method != http.MethodGet || r.Header.Get("User-Agent") == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if s.status != 0 {
		http.Error(w, "down", s.status)
		return
	}
	if s.body != "" {
		fmt.Fprint(w, s.body)
		return
	}
	var b strings.Builder
	for pw, n := range s.known {
		if h := sha1Hex(pw); h[:5] == strings.ToUpper(prefix) {
			fmt.Fprintf(&b, "%s:%d\r\n", h[5:], n)
		}
	}
	if r.Header.Get("Add-Padding") == "true" {
		for i := range s.pad {
			fmt.Fprintf(&b, "%035X:0\r\n", i)
		}
	}
	out := strings.TrimSuffix(b.String(), "\r\n")
	if s.lower {
		out = strings.ToLower(out)
	}
	fmt.Fprint(w, out)
}

func newChecker(t *testing.T, cfg Config) *Checker {
	t.Helper()
	c, err := New(cfg)
	if c == nil || err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

func TestCount(t *testing.T) {
	ctx := context.Background()
	srv := newRangeServer(t, map[string]int{"password": 10434004, "P@ssw0rd": 3, "correct horse battery staple": 0})
	for _, lower := range []bool{false, true} {
		srv.lower = lower
		c := newChecker(t, Config{BaseURL: srv.URL, CacheSize: -1})
		for pw, want := range map[string]int{"password": 10434004, "P@ssw0rd": 3, "correct horse battery staple": 0, "never seen anywhere at all": 0} {
			got, err := c.Count(ctx, pw)
			if err != nil || got != want {
				t.Errorf("lower %v: Count(%q) = %d, %v; want %d", lower, pw, got, err, want)
			}
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i, p := range srv.prefixes {
		if len(p) != 5 || !srv.paddingOn[i] {
			t.Errorf("request %d: prefix %q, padding %v: want 5 hex digits and Add-Padding", i, p, srv.paddingOn[i])
		}
	}
	if srv.prefixes[0] != sha1Hex("password")[:5] && srv.prefixes[0] != sha1Hex("P@ssw0rd")[:5] &&
		srv.prefixes[0] != sha1Hex("correct horse battery staple")[:5] && srv.prefixes[0] != sha1Hex("never seen anywhere at all")[:5] {
		t.Errorf("first prefix %q is none of the passwords'", srv.prefixes[0])
	}
}

// TestFailures: a slow server, a 5xx, a 429 and malformed answers are
// errors wrapping ErrUnavailable (503); FailClosed returns them from
// Breached, FailOpen logs them and lets the password pass.
func TestFailures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		set  func(*rangeServer)
	}{
		{"slow server", func(s *rangeServer) { s.delay = time.Second }},
		{"500", func(s *rangeServer) { s.status = http.StatusInternalServerError }},
		{"503", func(s *rangeServer) { s.status = http.StatusServiceUnavailable }},
		{"429", func(s *rangeServer) { s.status = http.StatusTooManyRequests }},
		{"HTML", func(s *rangeServer) { s.body = "<html>maintenance</html>" }},
		{"short suffix", func(s *rangeServer) { s.body = "0018A45C4D1DEF81644B54AB7F969B88D6:2" }},
		{"no count", func(s *rangeServer) { s.body = "0018A45C4D1DEF81644B54AB7F969B88D65:" }},
		{"negative count", func(s *rangeServer) { s.body = "0018A45C4D1DEF81644B54AB7F969B88D65:-1" }},
		{"not hex", func(s *rangeServer) { s.body = "0018A45C4D1DEF81644B54AB7F969B88D6Z:1" }},
		{"a long line", func(s *rangeServer) { s.body = strings.Repeat("A", 200) }},
		{"too big", func(s *rangeServer) {
			s.body = strings.Repeat("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n", maxBody/38+1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRangeServer(t, map[string]int{"password": 5})
			tc.set(srv)
			closed := newChecker(t, Config{BaseURL: srv.URL, Timeout: 100 * time.Millisecond, Mode: FailClosed})
			_, err := closed.Count(ctx, "password")
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Count: %v, want ErrUnavailable", err)
			}
			if p := problem.Of(err); p.Status != http.StatusServiceUnavailable || p.Code != "breach_check_unavailable" {
				t.Errorf("problem %+v", p)
			}
			if found, err := closed.Breached(ctx, "password"); found || !errors.Is(err, ErrUnavailable) {
				t.Errorf("FailClosed Breached = %v, %v", found, err)
			}

			var logs bytes.Buffer
			open := newChecker(t, Config{BaseURL: srv.URL, Timeout: 100 * time.Millisecond,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			if found, err := open.Breached(ctx, "password"); found || err != nil {
				t.Errorf("FailOpen Breached = %v, %v; want false, nil", found, err)
			}
			if !strings.Contains(logs.String(), `"event":"`+EventUnavailable+`"`) || !strings.Contains(logs.String(), `"level":"WARN"`) {
				t.Errorf("FailOpen logged %s", logs.String())
			}
			if strings.Contains(logs.String(), "password\"") || strings.Contains(logs.String(), sha1Hex("password")[:5]) {
				t.Errorf("the log holds the password or its hash: %s", logs.String())
			}
		})
	}
}

func TestTimeoutBoundsTheCall(t *testing.T) {
	srv := newRangeServer(t, nil)
	srv.delay = 5 * time.Second
	c := newChecker(t, Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond, Mode: FailClosed})
	start := time.Now()
	_, err := c.Count(context.Background(), "password")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Count: %v, want ErrUnavailable and the deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Count took %v with a 50 ms timeout", d)
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	srv := newRangeServer(t, map[string]int{"password": 7})
	c := newChecker(t, Config{BaseURL: srv.URL, CacheSize: 2, CacheTTL: time.Minute})
	now := time.Unix(1_800_000_000, 0)
	c.now = func() time.Time { return now }
	for range 3 {
		if n, err := c.Count(ctx, "password"); n != 7 || err != nil {
			t.Fatalf("Count = %d, %v", n, err)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("%d requests for one prefix, want 1", got)
	}
	// Two other prefixes push the first out of a cache of two.
	pws := distinctPrefixes(2, sha1Hex("password")[:5])
	for _, pw := range pws {
		if _, err := c.Count(ctx, pw); err != nil {
			t.Fatal(err)
		}
	}
	if c.lru.Len() != 2 {
		t.Errorf("cache holds %d prefixes, want at most 2", c.lru.Len())
	}
	_, _ = c.Count(ctx, "password")
	if got := srv.requests.Load(); got != 4 {
		t.Errorf("%d requests, want 4 (the evicted prefix asked again)", got)
	}
	now = now.Add(time.Minute)
	_, _ = c.Count(ctx, "password")
	if got := srv.requests.Load(); got != 5 {
		t.Errorf("%d requests, want 5 (the expired answer asked again)", got)
	}
	// A failure is not cached.
	srv.status = http.StatusBadGateway
	if _, err := c.Count(ctx, "a password never asked"); err == nil {
		t.Fatal("no error from a 502")
	}
	srv.status = 0
	if _, err := c.Count(ctx, "a password never asked"); err != nil {
		t.Errorf("after the server recovered: %v", err)
	}
}

// distinctPrefixes returns n passwords whose SHA-1 prefixes differ from
// each other and from not.
func distinctPrefixes(n int, not string) []string {
	seen := map[string]bool{not: true}
	var out []string
	for i := 0; len(out) < n; i++ {
		pw := fmt.Sprintf("pw-%d", i)
		if p := sha1Hex(pw)[:5]; !seen[p] {
			seen[p] = true
			out = append(out, pw)
		}
	}
	return out
}

func TestConcurrentUse(t *testing.T) {
	srv := newRangeServer(t, map[string]int{"password": 1})
	c := newChecker(t, Config{BaseURL: srv.URL, CacheSize: 4})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			pw := "password"
			if i%2 == 1 {
				pw = fmt.Sprintf("pw-%d", i)
			}
			if _, err := c.Count(context.Background(), pw); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c.lru.Len() > 4 {
		t.Errorf("cache over its size: %d", c.lru.Len())
	}
}

// TestWithPolicy: set as a Policy's BreachChecker, a known password is
// refused with 400 password_breached, and a FailClosed failure is 503.
func TestWithPolicy(t *testing.T) {
	ctx := context.Background()
	srv := newRangeServer(t, map[string]int{"an often breached sentence": 12})
	c := newChecker(t, Config{BaseURL: srv.URL, Mode: FailClosed})
	policy, err := password.NewPolicy(password.PolicyConfig{Breached: c})
	if err != nil {
		t.Fatal(err)
	}
	if p := problem.Of(policy.Check(ctx, "an often breached sentence")); p.Status != 400 || p.Code != "password_breached" {
		t.Errorf("breached: %+v", p)
	}
	if err := policy.Check(ctx, "a sentence no one has used"); err != nil {
		t.Errorf("unknown: %v", err)
	}
	srv.status = http.StatusInternalServerError
	if p := problem.Of(policy.Check(ctx, "yet another fresh sentence")); p.Status != 503 || p.Code != "breach_check_unavailable" {
		t.Errorf("down, fail closed: %+v", p)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []Config{
		{Timeout: -1}, {CacheTTL: -1}, {MinCount: -1}, {CacheSize: -2}, {Mode: 7}, {BaseURL: "ftp://example.com"},
		// Not a URL (every request would fail with an error quoting it,
		// prefix and all), no host, a query, a fragment, user info.
		{BaseURL: "http://exa mple.com"}, {BaseURL: "https://"}, {BaseURL: "https:example.com"},
		{BaseURL: "https://example.com/?x=1"}, {BaseURL: "https://example.com/#x"}, {BaseURL: "https://u:p@example.com"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestParseRange(t *testing.T) {
	got, lines, err := parseRange([]byte("0018a45c4d1def81644b54ab7f969b88d65:21\r\n00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\n\n011053FD0102E94D6AE2F8B83D76FAF94F6:3"))
	if err != nil || lines != 3 {
		t.Fatal(lines, err)
	}
	want := map[string]int{"0018A45C4D1DEF81644B54AB7F969B88D65": 21, "011053FD0102E94D6AE2F8B83D76FAF94F6": 3}
	if len(got) != len(want) || got["0018A45C4D1DEF81644B54AB7F969B88D65"] != 21 || got["011053FD0102E94D6AE2F8B83D76FAF94F6"] != 3 {
		t.Errorf("parseRange = %v, want %v", got, want)
	}
	if _, _, err := parseRange([]byte("0018A45C4D1DEF81644B54AB7F969B88D65:1\n0018a45c4d1def81644b54ab7f969b88d65:2")); err == nil {
		t.Error("a suffix listed twice was accepted")
	}
	if got, lines, err := parseRange(nil); err != nil || len(got) != 0 || lines != 0 {
		t.Errorf("empty answer: %v, %v", got, err)
	}
}

// FuzzParseRange: the parser never panics, what it returns is upper-case
// 35-digit suffixes with positive counts, and the packed cache entry
// counts each as the answer did.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"", "0018A45C4D1DEF81644B54AB7F969B88D65:21\r\n00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0",
		"0018a45c4d1def81644b54ab7f969b88d65:1", ":", "\r\n\r\n", "0018A45C4D1DEF81644B54AB7F969B88D65:99999999999999999999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		counts, lines, err := parseRange(body)
		if err != nil {
			return
		}
		if lines < len(counts) || lines > MaxLines {
			t.Fatalf("parseRange(%q): %d lines, %d suffixes", body, lines, len(counts))
		}
		e := newEntry("00000", counts, time.Time{})
		for k, v := range counts {
			if len(k) != 35 || strings.ToUpper(k) != k || !isHex([]byte(k)) || v <= 0 {
				t.Fatalf("parseRange(%q) gave %q:%d", body, k, v)
			}
			if got := e.count(strings.ToLower(k)); int64(got) != min(int64(v), math.MaxUint32) {
				t.Fatalf("the packed entry counts %q %d times, the answer %d", k, got, v)
			}
		}
	})
}

// TestAnEmptyOrUnpaddedAnswerIsAFailure: a 200 with no lines, or fewer than
// a padded answer of the API always has, is a failure (ErrUnavailable),
// not "no password under this prefix is known" (review 17).
func TestAnEmptyOrUnpaddedAnswerIsAFailure(t *testing.T) {
	for _, pad := range []int{0, 10, MinLines - 2} {
		srv := newRangeServer(t, map[string]int{"password": 5})
		srv.pad = pad
		c := newChecker(t, Config{BaseURL: srv.URL, Mode: FailClosed})
		if found, err := c.Breached(context.Background(), "correct horse battery staple"); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%d padding lines: Breached = %v, %v; want ErrUnavailable", pad, found, err)
		}
	}
	srv := newRangeServer(t, nil)
	srv.pad = MinLines
	c := newChecker(t, Config{BaseURL: srv.URL, Mode: FailClosed})
	if found, err := c.Breached(context.Background(), "correct horse battery staple"); found || err != nil {
		t.Errorf("%d padding lines: Breached = %v, %v", MinLines, found, err)
	}
}

// TestCachedAnswersAreBounded: an answer of MaxLines breached suffixes is
// kept in under 96 kB (what Config.CacheSize's doc promises), and one of
// more lines is a failure, not cached (review 17: a 1 MiB answer was kept
// as 600 kB).
func TestCachedAnswersAreBounded(t *testing.T) {
	var full bytes.Buffer
	for i := range MaxLines {
		fmt.Fprintf(&full, "%035X:1234567890\r\n", i)
	}
	body := full.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	c := newChecker(t, Config{BaseURL: srv.URL, CacheSize: 32, Mode: FailClosed})
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := range 32 {
		if _, err := c.Count(context.Background(), fmt.Sprint("pw", i)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := (int64(m1.HeapAlloc) - int64(m0.HeapAlloc)) / 32
	t.Logf("%d cached prefixes of %d suffixes: %d bytes each", len(c.entries), MaxLines, per)
	if per > 96<<10 {
		t.Errorf("a cached prefix holds %d bytes, over 96 kB", per)
	}
	body = append(body, []byte("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:1\r\n")...)
	c = newChecker(t, Config{BaseURL: srv.URL, Mode: FailClosed})
	if _, err := c.Count(context.Background(), "password"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("an answer of %d lines: %v, want ErrUnavailable", MaxLines+1, err)
	}
}

// TestRedirectsAreNotFollowed: a range request answered with a redirect
// (here from https to plain http) fails, without the prefix in the error,
// and the app's own Client is left as it was (review 17).
func TestRedirectsAreNotFollowed(t *testing.T) {
	plain := newRangeServer(t, map[string]int{"password": 5})
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
	}))
	defer tlsSrv.Close()
	client := tlsSrv.Client()
	c := newChecker(t, Config{BaseURL: tlsSrv.URL, Client: client, Mode: FailClosed})
	_, err := c.Count(context.Background(), "password")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Count after a redirect: %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), sha1Hex("password")[:5]) {
		t.Errorf("the error holds the prefix: %v", err)
	}
	if n := plain.requests.Load(); n != 0 {
		t.Errorf("the redirect was followed (%d requests over http)", n)
	}
	if client.CheckRedirect != nil {
		t.Error("New changed the app's Client")
	}
}
