package redis

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/internal/record"
)

var _ store.Limits = (*Store)(nil)

// Take implements [store.Limits]: one script on one key, so one round trip
// and one slot. Times are milliseconds: an Interval is rounded up to one.
func (s *Store) Take(ctx context.Context, key string, r store.Rate, n int) (store.Decision, error) {
	if err := store.CheckTake(r, n); err != nil {
		return store.Decision{}, err
	}
	// Redis keeps limits in whole milliseconds: an Interval is rounded
	// up, so a limit is never looser than asked.
	iv := int64((r.Interval + time.Millisecond - 1) / time.Millisecond)
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
