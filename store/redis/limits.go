package redis

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/internal/record"
)

var _ store.Limits = (*Store)(nil)

// errSubMillisecond: Redis keeps limits in milliseconds.
var errSubMillisecond = errors.New("redis: a rate limit Interval under 1 ms")

// Take implements [store.Limits]: one script on one key, so one round trip
// and one slot. Times are milliseconds: an Interval under 1 ms is refused.
func (s *Store) Take(ctx context.Context, key string, r store.Rate, n int) (store.Decision, error) {
	if err := store.CheckTake(r, n); err != nil {
		return store.Decision{}, err
	}
	iv := r.Interval.Milliseconds()
	if iv < 1 {
		return store.Decision{}, errSubMillisecond
	}
	res, err := takeScript.Run(ctx, s.c, []string{s.limitKey(key)}, s.nowMillis(), iv, r.Burst, n).Int64Slice()
	if err != nil {
		return store.Decision{}, unavailable("take", err)
	}
	if len(res) != 3 {
		return store.Decision{}, unavailable("take", record.ErrCorrupt)
	}
	return store.Decision{
		Allowed:    res[0] == 1,
		RetryAfter: time.Duration(res[1]) * time.Millisecond,
		Remaining:  int(res[2]),
	}, nil
}

// limitKey hashes the caller's key, as counterKey does, into a key space
// of its own.
func (s *Store) limitKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return s.prefix + ":l:" + base64.RawURLEncoding.EncodeToString(h[:])
}
