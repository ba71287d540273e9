package redis

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/internal/record"
)

// DefaultPrefix starts every key the store writes unless Options.Prefix
// says otherwise.
const DefaultPrefix = "gatehouse"

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// Prefix starts every key, so that several apps (or several
	// gatehouse instances) can share one Redis. It may not contain '{'
	// or '}', which Redis Cluster reads as a hash tag. Default
	// DefaultPrefix.
	Prefix string
	// Now is the store's clock; every expiry decision is taken from it.
	// Default time.Now.
	Now func() time.Time

	// WaitReplicas, when above zero, makes every write that ends a token
	// (Consume, Delete, DeleteAll) wait until that many replicas have it,
	// with Redis's WAIT sent on the same connection in the same round
	// trip. If fewer acknowledge within WaitTimeout the call fails with
	// store.ErrUnavailable: a one-time token is never accepted on the
	// strength of a write that a failover could still lose (it may be gone
	// from the master already, so a retry finds it missing: fail closed).
	// Without it, replication is asynchronous: a master that dies in the
	// instant after a consume can leave a replica, promoted, that still
	// holds the token. Rotate does not wait: reporting a done rotation as
	// failed would make the client's retry look like a replay. It needs a
	// *redis.Client (one server or Sentinel) or a *redis.ClusterClient,
	// whose key's master it can address; New refuses other clients.
	// Default 0.
	WaitReplicas int
	// WaitTimeout bounds the wait for replicas; default 100ms.
	WaitTimeout time.Duration

	// Coalesce sends the token lookups (Get) of concurrent requests to
	// Redis together, as pipelines: at most CoalesceFlights pipelines in
	// flight, each of up to 128 GETs. A lookup that finds a flight free
	// goes at once, so it adds no delay to a lone request; under load the
	// round trips per request fall and validations per second rise (see
	// BenchmarkCoalesce). Answers are exactly those of separate GETs.
	Coalesce bool
	// CoalesceFlights bounds the pipelines in flight; default 4.
	CoalesceFlights int
}

// Store keeps gatehouse's tokens and counters in Redis. It is safe for
// concurrent use; the client's own pool does the connecting.
type Store struct {
	c       goredis.UniversalClient
	prefix  string
	now     func() time.Time
	replica int   // Options.WaitReplicas
	waitMs  int64 // Options.WaitTimeout in ms
	co      *coalescer
}

var (
	_ store.Store = (*Store)(nil)
	_ io.Closer   = (*Store)(nil)
)

// New returns a store on c: a *redis.Client, a *redis.ClusterClient or a
// Sentinel failover client. The caller keeps c and closes it after the
// store ([Store.Close] does not). It sends nothing to Redis: a server that is
// down shows up as store.ErrUnavailable from the first call.
func New(c goredis.UniversalClient, opts Options) (*Store, error) {
	if c == nil {
		return nil, errors.New("redis: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("redis: key prefix %q contains a brace", opts.Prefix)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WaitReplicas < 0 {
		return nil, fmt.Errorf("redis: WaitReplicas %d", opts.WaitReplicas)
	}
	if opts.WaitReplicas > 0 {
		// WAIT counts the writes of its own connection: the client must
		// send it where the script ran, which a Ring or a wrapped client
		// would not.
		switch c.(type) {
		case *goredis.Client, *goredis.ClusterClient:
		default:
			return nil, fmt.Errorf("redis: WaitReplicas needs a *redis.Client or *redis.ClusterClient, not %T", c)
		}
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 100 * time.Millisecond
	}
	s := &Store{c: c, prefix: opts.Prefix, now: opts.Now,
		replica: opts.WaitReplicas, waitMs: max(1, opts.WaitTimeout.Milliseconds())}
	if opts.Coalesce {
		flights := opts.CoalesceFlights
		if flights <= 0 {
			flights = 4
		}
		s.co = newCoalescer(c, flights, 128)
	}
	return s, nil
}

// Close waits for the lookups in flight (with Options.Coalesce, the
// pipelines and the goroutines that send them) to be answered, and returns
// nil. It does not close the client: the store does not own it. Whoever
// made the client (redis.NewClient, goredis.NewClient, ...) closes it,
// after the store, since several stores or other code may share one
// client. The store still answers after Close, as the memory store does,
// for as long as its client is open. Close may be called more than once.
func (s *Store) Close() error {
	if s.co != nil {
		s.co.wait()
	}
	return nil
}

// unavailable wraps every failure of Redis (refused connection, timeout,
// LOADING, CLUSTERDOWN, a cancelled context) so that callers fail closed.
func unavailable(op string, err error) error {
	return fmt.Errorf("redis store: %s: %w: %w", op, store.ErrUnavailable, err)
}

// base is "<prefix>:{<tag>}:", the start of every key of one subject.
func (s *Store) base(tag string) string {
	return s.prefix + ":{" + tag + "}:"
}

// tokenKey is "<prefix>:{<tag>}:t:<hex hash>", built in one allocation
// because Get, the hot path, needs nothing else. The member, the hash's
// hex, is the key's tail.
func (s *Store) tokenKey(id store.ID) (key, member string) {
	n := len(s.prefix) + len(id.Tag) + 6
	b := make([]byte, n+hex.EncodedLen(len(id.Hash)))
	i := copy(b, s.prefix)
	i += copy(b[i:], ":{")
	i += copy(b[i:], id.Tag)
	copy(b[i:], "}:t:")
	hex.Encode(b[n:], id.Hash[:])
	key = string(b)
	return key, key[n:]
}

func (s *Store) indexKey(tag, subject string) string {
	h := sha1.Sum([]byte(subject))
	return s.base(tag) + "s:" + hex.EncodeToString(h[:])
}

// counterKey hashes the caller's key, so that no caller data reaches a
// key name and every counter key has one length.
func (s *Store) counterKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return s.prefix + ":c:" + base64.RawURLEncoding.EncodeToString(h[:])
}

func (s *Store) nowMillis() int64 { return s.now().UnixMilli() }

// ending runs a script that ends tokens. With WaitReplicas it goes to the
// master of keys[0] as a pipeline of the script and WAIT, so both use one
// connection (WAIT counts the writes of its own connection) and one round
// trip; too few acknowledgements turn the script's answer into an error.
func (s *Store) ending(ctx context.Context, sc *goredis.Script, keys []string, args ...any) (cmd *goredis.Cmd) {
	if s.replica == 0 {
		return sc.Run(ctx, s.c, keys, args...)
	}
	var node goredis.Cmdable = s.c
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		master, err := cc.MasterForKey(ctx, keys[0])
		if err != nil {
			return failed(ctx, err)
		}
		node = master
		// Talking to one node bypasses the cluster client's own recovery
		// from a failover (it reloads the slot map when it meets MOVED or
		// a dead node), so a failure here asks for a reload: the next call
		// finds the promoted master.
		defer func() {
			if err := cmd.Err(); err != nil && err != goredis.Nil {
				cc.ReloadState(ctx)
			}
		}()
	}
	for attempt := 0; ; attempt++ {
		pipe := node.Pipeline()
		res := pipe.EvalSha(ctx, sc.Hash(), keys, args...)
		acks := pipe.Do(ctx, "wait", s.replica, s.waitMs)
		_, _ = pipe.Exec(ctx)
		if err := res.Err(); err != nil && attempt == 0 && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			// The script did not run; load it on this node and go again.
			if err := sc.Load(ctx, node).Err(); err != nil {
				return failed(ctx, err)
			}
			continue
		}
		if res.Err() != nil {
			return res
		}
		n, err := acks.Int()
		if err != nil {
			return failed(ctx, err)
		}
		if n < s.replica {
			return failed(ctx, fmt.Errorf("%d of %d replicas acknowledged the write in %dms", n, s.replica, s.waitMs))
		}
		return res
	}
}

func failed(ctx context.Context, err error) *goredis.Cmd {
	cmd := goredis.NewCmd(ctx)
	cmd.SetErr(err)
	return cmd
}

// Put implements store.Writer.
func (s *Store) Put(ctx context.Context, id store.ID, rec store.Record) error {
	if err := store.CheckPut(id, rec); err != nil {
		return err
	}
	key, member := s.tokenKey(id)
	keys := []string{key, s.indexKey(id.Tag, rec.Subject)}
	err := putScript.Run(ctx, s.c, keys, record.Encode(rec, false), record.Millis(rec.ExpiresAt), s.nowMillis(), member).Err()
	if err != nil {
		return unavailable("put", err)
	}
	return nil
}

// Get implements store.Reader with one GET.
func (s *Store) Get(ctx context.Context, id store.ID) (store.Record, bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return store.Record{}, false, nil
	}
	key, _ := s.tokenKey(id)
	var v string
	var err error
	if s.co != nil {
		v, err = s.co.get(ctx, key)
	} else {
		v, err = s.c.Get(ctx, key).Result()
	}
	if err == goredis.Nil {
		return store.Record{}, false, nil
	}
	if err != nil {
		return store.Record{}, false, unavailable("get", err)
	}
	return s.live(v)
}

// live decodes v and reports it when it is neither spent nor expired.
func (s *Store) live(v string) (store.Record, bool, error) {
	d, err := record.Decode(v)
	if err != nil {
		return store.Record{}, false, unavailable("get", err)
	}
	if d.Spent || d.Expires <= s.nowMillis() {
		return store.Record{}, false, nil
	}
	return d.Record, true, nil
}

// Consume implements store.Consumer.
func (s *Store) Consume(ctx context.Context, id store.ID) (store.Record, bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return store.Record{}, false, nil
	}
	key, member := s.tokenKey(id)
	v, err := s.ending(ctx, consumeScript, []string{key}, s.nowMillis(), s.base(id.Tag), member).Text()
	if err == goredis.Nil {
		return store.Record{}, false, nil
	}
	if err != nil {
		return store.Record{}, false, unavailable("consume", err)
	}
	d, err := record.Decode(v)
	if err != nil {
		return store.Record{}, false, unavailable("consume", err)
	}
	return d.Record, true, nil
}

// Rotate implements store.Rotator.
func (s *Store) Rotate(ctx context.Context, old, next store.ID, lifetime time.Duration) (store.Rotation, error) {
	if err := store.CheckRotate(old, next, lifetime); err != nil {
		return store.Rotation{}, err
	}
	if !store.ValidRoutingTag(old.Tag) {
		return store.Rotation{Status: store.RotateMissing}, nil
	}
	oldKey, oldMember := s.tokenKey(old)
	nextKey, nextMember := s.tokenKey(next)
	// Not through ending: a rotation whose replicas were slow to
	// acknowledge would be reported failed although done, and the client's
	// retry, presenting the now spent token, would revoke its own chain.
	base := s.base(old.Tag)
	res, err := rotateScript.Run(ctx, s.c, []string{oldKey, nextKey, base + "n:" + oldMember},
		s.nowMillis(), lifetime.Milliseconds(), base, nextMember).Slice()
	if err != nil {
		return store.Rotation{}, unavailable("rotate", err)
	}
	rot, err := rotation(res)
	if err != nil {
		return store.Rotation{}, unavailable("rotate", err)
	}
	return rot, nil
}

func rotation(res []any) (store.Rotation, error) {
	status, _ := res[0].(int64)
	if status == 0 {
		return store.Rotation{Status: store.RotateMissing}, nil
	}
	if len(res) < 2 {
		return store.Rotation{}, record.ErrCorrupt
	}
	v, _ := res[1].(string)
	d, err := record.Decode(v)
	if err != nil {
		return store.Rotation{}, err
	}
	if status == 1 {
		return store.Rotation{Status: store.RotateDone, Record: d.Record}, nil
	}
	if len(res) < 3 {
		return store.Rotation{}, record.ErrCorrupt
	}
	n, _ := res[2].(int64)
	return store.Rotation{Status: store.RotateReused, Record: d.Record, Revoked: int(n)}, nil
}

// Touch implements store.Toucher with one script: one round trip, one
// key, and a write only when the touch is due.
func (s *Store) Touch(ctx context.Context, id store.ID, minInterval time.Duration) (bool, error) {
	if err := store.CheckTouch(minInterval); err != nil {
		return false, err
	}
	if !store.ValidRoutingTag(id.Tag) {
		return false, nil
	}
	key, _ := s.tokenKey(id)
	n, err := touchScript.Run(ctx, s.c, []string{key}, s.nowMillis(), minInterval.Milliseconds()).Int()
	if err != nil {
		return false, unavailable("touch", err)
	}
	return n == 1, nil
}

// Delete implements store.Writer.
func (s *Store) Delete(ctx context.Context, id store.ID) (bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return false, nil
	}
	key, member := s.tokenKey(id)
	n, err := s.ending(ctx, deleteScript, []string{key}, s.nowMillis(), s.base(id.Tag), member).Int()
	if err != nil {
		return false, unavailable("delete", err)
	}
	return n == 1, nil
}

// DeleteAll implements store.SubjectIndex through the subject's index: no scan
// of the key space.
func (s *Store) DeleteAll(ctx context.Context, tag, subject string, f store.Filter) (int, error) {
	if !store.ValidRoutingTag(tag) {
		return 0, nil
	}
	n, err := s.ending(ctx, deleteAllScript, []string{s.indexKey(tag, subject)}, s.nowMillis(), s.base(tag),
		subject, strconv.Itoa(int(f.Kind)), f.Project, f.Device, f.Family).Int()
	if err != nil {
		return 0, unavailable("delete all", err)
	}
	return n, nil
}

// List implements store.SubjectIndex through the subject's index.
func (s *Store) List(ctx context.Context, tag, subject string, f store.Filter) ([]store.Item, error) {
	if !store.ValidRoutingTag(tag) {
		return nil, nil
	}
	res, err := listScript.Run(ctx, s.c, []string{s.indexKey(tag, subject)}, s.nowMillis(), s.base(tag), subject).StringSlice()
	if err != nil {
		return nil, unavailable("list", err)
	}
	var items []store.Item
	for i := 0; i+1 < len(res); i += 2 {
		d, err := record.Decode(res[i+1])
		if err != nil {
			return nil, unavailable("list", err)
		}
		if !f.Match(d.Record) {
			continue
		}
		it := store.Item{ID: store.ID{Tag: tag}, Record: d.Record}
		if n, err := hex.Decode(it.ID.Hash[:], []byte(res[i])); err != nil || n != len(it.ID.Hash) {
			return nil, unavailable("list", record.ErrCorrupt)
		}
		items = append(items, it)
	}
	return items, nil
}

// Hit implements store.Counters.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (store.Count, error) {
	if window <= 0 {
		return store.Count{}, fmt.Errorf("redis: counter window %v", window)
	}
	res, err := hitScript.Run(ctx, s.c, []string{s.counterKey(key)}, s.nowMillis(), window.Milliseconds()).Slice()
	if err != nil {
		return store.Count{}, unavailable("hit", err)
	}
	n, _ := res[0].(int64)
	r, _ := res[1].(string)
	reset, err := strconv.ParseInt(r, 10, 64)
	if err != nil || n < 1 {
		return store.Count{}, unavailable("hit", record.ErrCorrupt)
	}
	return store.Count{N: n, ResetAt: time.UnixMilli(reset)}, nil
}

// Peek implements store.Counters with one HMGET.
func (s *Store) Peek(ctx context.Context, key string) (store.Count, error) {
	res, err := s.c.HMGet(ctx, s.counterKey(key), "n", "r").Result()
	if err != nil {
		return store.Count{}, unavailable("peek", err)
	}
	ns, _ := res[0].(string)
	rs, _ := res[1].(string)
	if ns == "" || rs == "" {
		return store.Count{}, nil
	}
	n, err1 := strconv.ParseInt(ns, 10, 64)
	reset, err2 := strconv.ParseInt(rs, 10, 64)
	if err1 != nil || err2 != nil {
		return store.Count{}, unavailable("peek", record.ErrCorrupt)
	}
	if reset <= s.nowMillis() {
		return store.Count{}, nil
	}
	return store.Count{N: n, ResetAt: time.UnixMilli(reset)}, nil
}

// Reset implements store.Counters.
func (s *Store) Reset(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.counterKey(key)).Err(); err != nil {
		return unavailable("reset", err)
	}
	return nil
}
