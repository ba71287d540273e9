// Package pwned checks passwords against the Have I Been Pwned "Pwned
// Passwords" range API without sending them: only the first five hex
// digits of the password's SHA-1 leave the process (k-anonymity), and the
// answer lists every known hash suffix under that prefix, padded with
// zero-count decoys (Add-Padding) so that its size tells nothing either.
//
// A [Checker] is a password.BreachChecker: an app turns it on by setting
// password.PolicyConfig.Breached. It is off unless the app does, since it
// makes a network call per new password to a third party. Each call has a
// timeout, answers are cached per prefix in a bounded cache, and what a
// failure (timeout, 5xx, a redirect, a malformed, empty or oversized
// answer) does is the app's choice,
// [FailOpen] (the default) or [FailClosed]; either way the failure is
// visible: [Checker.Count] returns it wrapped around [ErrUnavailable], and
// a Checker that fails open logs it as the event [EventUnavailable].
package pwned

import (
	"bufio"
	"bytes"
	"container/list"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
)

// DefaultBaseURL is the public Pwned Passwords API; a Checker asks
// {BaseURL}/range/{prefix}.
const DefaultBaseURL = "https://api.pwnedpasswords.com"

// EventUnavailable is the event a Checker that fails open logs (as the
// attribute event, at warning level) when it could not check a password
// and let it pass: alert on it.
const EventUnavailable = "password.breach_check_unavailable"

// ErrUnavailable: the range API could not be asked or its answer not read
// (a timeout, a network error, a status other than 200, a redirect, a
// malformed or oversized body, or one of fewer than MinLines lines). Every failure Count returns wraps it; a Checker that
// fails closed returns it from Breached, and a Policy check then fails
// with 503 breach_check_unavailable.
var ErrUnavailable = problem.New("pwned: the breach check is unavailable", problem.Error{
	Status: http.StatusServiceUnavailable, Code: "breach_check_unavailable",
	Message: "the password could not be checked against known breaches just now; try again in a moment"})

// FailMode is what Breached answers when the range API fails.
type FailMode int

const (
	// FailOpen: a password that could not be checked passes (Breached
	// answers false, nil) and the failure is logged as EventUnavailable.
	// The default: the offline blocklist, which SP 800-63B-4 requires,
	// has already run, and sign-up should not depend on a third party
	// being up.
	FailOpen FailMode = iota
	// FailClosed: Breached returns the failure, so Policy.Check fails and
	// the user is asked to try again (503 breach_check_unavailable).
	FailClosed
)

// Config configures a Checker. The zero Config asks the public API.
type Config struct {
	// BaseURL is the API's root, without the trailing /range; default
	// DefaultBaseURL. Tests point it at their own server. New refuses
	// one that is not an absolute http or https URL with a host and no
	// query or fragment.
	BaseURL string
	// Client makes the requests; default a client of its own with
	// net/http's default transport. Its own Timeout, if any, also
	// applies. A Checker uses a copy of it that follows no redirect (a
	// redirect is a failure): a redirect could send the prefix on over
	// plain http, or to another host.
	Client *http.Client
	// Timeout bounds each range request, body included; default 2 s.
	Timeout time.Duration
	// CacheSize is how many prefixes' answers are kept; default 512. An
	// answer is kept in about 22 bytes a breached suffix: about 22 kB for
	// a real one (about 11 MB for 512), and at most about 86 kB, since an
	// answer of more than MaxLines lines is a failure (so 44 MB for 512
	// at worst). A prefix's answer serves every password under it. -1
	// turns the cache off.
	CacheSize int
	// CacheTTL is how long an answer is kept; default 1 hour.
	CacheTTL time.Duration
	// MinCount is how many times a password must have been seen in
	// breaches to be refused; default 1.
	MinCount int
	// Mode is what Breached does when the API fails; default FailOpen.
	Mode FailMode
	// Logger receives EventUnavailable when a Checker fails open; default
	// slog.Default(). Nothing of the password is logged.
	Logger *slog.Logger
	// UserAgent is sent with each request (the public API requires one);
	// default "gatehouse-pwned".
	UserAgent string
}

// maxBody bounds a range answer: real ones are about 30 kB, padded ones
// under 40 kB; MaxLines of the longest line the protocol allows fit.
const maxBody = 256 << 10

// MaxLines bounds the lines of a range answer: real ones list about a
// thousand suffixes (padded, 800 to 1,000 or more), a quarter of this. An
// answer of more is a failure, so that what the cache keeps is bounded.
const MaxLines = 4096

// MinLines is the fewest lines an answer may have: a Checker always asks
// for padding, which makes every answer of the real API 800 lines or
// more. An empty or near-empty 200 (a proxy, a captive portal, a broken
// mirror) is a failure, not "no password under this prefix is known".
const MinLines = 400

// Checker asks the range API whether passwords are known from breaches.
// It is safe for concurrent use.
type Checker struct {
	base      string
	client    *http.Client
	timeout   time.Duration
	minCount  int
	mode      FailMode
	log       *slog.Logger
	userAgent string
	now       func() time.Time

	mu       sync.Mutex
	cacheTTL time.Duration
	capacity int
	entries  map[string]*list.Element // prefix → *entry in lru
	lru      *list.List               // most recently used first
}

// entry is one prefix's answer, kept compact: the 35 hex digits of each
// suffix as 18 bytes, sorted, beside its count (about 22 bytes a suffix;
// an answer lists about a thousand).
type entry struct {
	prefix  string
	keys    [][18]byte
	counts  []uint32
	expires time.Time
}

// newEntry packs a parsed answer.
func newEntry(prefix string, counts map[string]int, expires time.Time) *entry {
	e := &entry{prefix: prefix, expires: expires, keys: make([][18]byte, 0, len(counts))}
	for suffix := range counts {
		k, _ := suffixKey(suffix)
		e.keys = append(e.keys, k)
	}
	slices.SortFunc(e.keys, func(a, b [18]byte) int { return bytes.Compare(a[:], b[:]) })
	e.counts = make([]uint32, len(e.keys))
	for suffix, n := range counts {
		k, _ := suffixKey(suffix)
		i, _ := slices.BinarySearchFunc(e.keys, k, func(a, b [18]byte) int { return bytes.Compare(a[:], b[:]) })
		e.counts[i] = uint32(min(int64(n), math.MaxUint32))
	}
	return e
}

// count returns how often suffix was seen, 0 when it is not listed.
func (e *entry) count(suffix string) int {
	k, ok := suffixKey(suffix)
	if !ok {
		return 0
	}
	i, found := slices.BinarySearchFunc(e.keys, k, func(a, b [18]byte) int { return bytes.Compare(a[:], b[:]) })
	if !found {
		return 0
	}
	return int(e.counts[i])
}

// suffixKey packs 35 hex digits (either case) into 18 bytes.
func suffixKey(suffix string) ([18]byte, bool) {
	var k [18]byte
	if len(suffix) != 35 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte("0"+suffix))
	return k, err == nil
}

var _ password.BreachChecker = (*Checker)(nil)

// errRedirect is the failure of an answer that redirects. It names no
// URL: the redirect's would hold the prefix.
var errRedirect = errors.New("the range API answered with a redirect, which is not followed")

// New checks cfg and returns a Checker.
func New(cfg Config) (*Checker, error) {
	c := &Checker{
		base: strings.TrimRight(cfg.BaseURL, "/"), client: cfg.Client, timeout: cfg.Timeout,
		minCount: cfg.MinCount, mode: cfg.Mode, log: cfg.Logger, userAgent: cfg.UserAgent,
		now: time.Now, cacheTTL: cfg.CacheTTL, capacity: cfg.CacheSize,
		entries: map[string]*list.Element{}, lru: list.New(),
	}
	switch {
	case cfg.Timeout < 0, cfg.CacheTTL < 0, cfg.MinCount < 0, cfg.CacheSize < -1:
		return nil, errors.New("pwned: negative Config setting")
	case cfg.Mode != FailOpen && cfg.Mode != FailClosed:
		return nil, fmt.Errorf("pwned: unknown Mode %d", cfg.Mode)
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	u, err := url.Parse(c.base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, errors.New("pwned: BaseURL is not an absolute http(s) URL with a host and no query or fragment")
	}
	client := http.Client{}
	if c.client != nil {
		client = *c.client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirect }
	c.client = &client
	if c.timeout == 0 {
		c.timeout = 2 * time.Second
	}
	if c.capacity == 0 {
		c.capacity = 512
	}
	if c.cacheTTL == 0 {
		c.cacheTTL = time.Hour
	}
	if c.minCount == 0 {
		c.minCount = 1
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.userAgent == "" {
		c.userAgent = "gatehouse-pwned"
	}
	return c, nil
}

// Breached implements password.BreachChecker: whether password was seen
// in breaches at least MinCount times. When the API fails, a FailClosed
// Checker returns the error (wrapping ErrUnavailable); a FailOpen one logs
// it as EventUnavailable and answers false, nil.
func (c *Checker) Breached(ctx context.Context, password string) (bool, error) {
	n, err := c.Count(ctx, password)
	if err != nil {
		if c.mode == FailClosed {
			return false, err
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "gatehouse "+EventUnavailable+": password accepted unchecked",
			slog.String("event", EventUnavailable), slog.String("error", err.Error()))
		return false, nil
	}
	return n >= c.minCount, nil
}

// Count returns how many times password has been seen in breaches (0 for
// none). Hash the password as you would check it: pass it through
// password.Normalize first (Policy.Check does). Every error wraps
// ErrUnavailable.
func (c *Checker) Count(ctx context.Context, password string) (int, error) {
	sum := sha1.Sum([]byte(password))
	hash := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := hash[:5], hash[5:]
	if e := c.cached(prefix); e != nil {
		return e.count(suffix), nil
	}
	counts, err := c.fetch(ctx, prefix)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	e := newEntry(prefix, counts, c.now().Add(c.cacheTTL))
	c.store(e)
	return e.count(suffix), nil
}

func (c *Checker) fetch(ctx context.Context, prefix string) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/range/"+prefix, nil)
	if err != nil {
		return nil, errors.New("the range request could not be made") // err quotes the URL, so the prefix
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text has the URL, so the prefix: keep that out of logs
		}
		return nil, fmt.Errorf("range request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("range API answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the range answer: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("range answer over %d bytes", maxBody)
	}
	counts, lines, err := parseRange(body)
	if err != nil {
		return nil, err
	}
	if lines < MinLines {
		return nil, fmt.Errorf("range answer of %d lines, under %d: not a padded answer of the API", lines, MinLines)
	}
	return counts, nil
}

// parseRange reads a range answer: lines of SUFFIX:COUNT, where SUFFIX is
// the 35 hex digits of a SHA-1 after its five-digit prefix (either case)
// and COUNT a decimal count. It returns the suffixes, upper-cased, with
// their counts, leaving out zero counts (the padding Add-Padding asks
// for), and how many lines it had, not counting empty ones. Empty lines
// and CRLF line ends are accepted; any other line is an error, as is a
// suffix listed twice or more than MaxLines lines: an answer that is not
// all of the protocol is not trusted in part.
func parseRange(body []byte) (map[string]int, int, error) {
	counts := map[string]int{}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 128), 128)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if lines++; lines > MaxLines {
			return nil, 0, fmt.Errorf("range answer of more than %d lines", MaxLines)
		}
		suffix, count, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(suffix) != 35 || !isHex(suffix) {
			return nil, 0, fmt.Errorf("range answer line %d: not SUFFIX:COUNT", n)
		}
		if len(count) == 0 || len(count) > 18 || !isDigits(count) {
			return nil, 0, fmt.Errorf("range answer line %d: count is not a number", n)
		}
		key := strings.ToUpper(string(suffix))
		if _, dup := counts[key]; dup {
			return nil, 0, fmt.Errorf("range answer line %d: suffix listed twice", n)
		}
		v, err := strconv.Atoi(string(count))
		if err != nil {
			return nil, 0, fmt.Errorf("range answer line %d: %w", n, err)
		}
		counts[key] = v
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("range answer: %w", err)
	}
	for k, v := range counts {
		if v == 0 {
			delete(counts, k) // padding
		}
	}
	return counts, lines, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cached returns the live entry of prefix, or nil.
func (c *Checker) cached(prefix string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[prefix]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if !c.now().Before(e.expires) {
		c.lru.Remove(el)
		delete(c.entries, prefix)
		return nil
	}
	c.lru.MoveToFront(el)
	return e
}

func (c *Checker) store(e *entry) {
	if c.capacity < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.prefix]; ok {
		c.lru.Remove(el)
	}
	c.entries[e.prefix] = c.lru.PushFront(e)
	for c.lru.Len() > c.capacity {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.entries, last.Value.(*entry).prefix)
	}
}
