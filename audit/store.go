package audit

import (
	"context"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

// InstrumentStore returns s with every call timed into m.ObserveStore.
// Wrap the store once and hand the wrapper to tokens.New and auth.New.
func InstrumentStore(s store.Store, m Metrics) store.Store {
	if m == nil {
		return s
	}
	return &timed{s: s, m: m}
}

type timed struct {
	s store.Store
	m Metrics
}

func (t *timed) done(op string, start time.Time, err error) {
	t.m.ObserveStore(op, time.Since(start), err != nil)
}

func (t *timed) Put(ctx context.Context, id store.ID, r store.Record) error {
	start := time.Now()
	err := t.s.Put(ctx, id, r)
	t.done("put", start, err)
	return err
}

func (t *timed) Get(ctx context.Context, id store.ID) (store.Record, bool, error) {
	start := time.Now()
	r, ok, err := t.s.Get(ctx, id)
	t.done("get", start, err)
	return r, ok, err
}

func (t *timed) Consume(ctx context.Context, id store.ID) (store.Record, bool, error) {
	start := time.Now()
	r, ok, err := t.s.Consume(ctx, id)
	t.done("consume", start, err)
	return r, ok, err
}

func (t *timed) Rotate(ctx context.Context, old, next store.ID, life time.Duration) (store.Rotation, error) {
	start := time.Now()
	rot, err := t.s.Rotate(ctx, old, next, life)
	t.done("rotate", start, err)
	return rot, err
}

func (t *timed) Touch(ctx context.Context, id store.ID, minInterval time.Duration) (bool, error) {
	start := time.Now()
	ok, err := t.s.Touch(ctx, id, minInterval)
	t.done("touch", start, err)
	return ok, err
}

func (t *timed) Delete(ctx context.Context, id store.ID) (bool, error) {
	start := time.Now()
	ok, err := t.s.Delete(ctx, id)
	t.done("delete", start, err)
	return ok, err
}

func (t *timed) DeleteAll(ctx context.Context, tag, subject string, f store.Filter) (int, error) {
	start := time.Now()
	n, err := t.s.DeleteAll(ctx, tag, subject, f)
	t.done("delete_all", start, err)
	return n, err
}

func (t *timed) List(ctx context.Context, tag, subject string, f store.Filter) ([]store.Item, error) {
	start := time.Now()
	items, err := t.s.List(ctx, tag, subject, f)
	t.done("list", start, err)
	return items, err
}

func (t *timed) Hit(ctx context.Context, key string, window time.Duration) (store.Count, error) {
	start := time.Now()
	c, err := t.s.Hit(ctx, key, window)
	t.done("hit", start, err)
	return c, err
}

func (t *timed) Peek(ctx context.Context, key string) (store.Count, error) {
	start := time.Now()
	c, err := t.s.Peek(ctx, key)
	t.done("peek", start, err)
	return c, err
}

func (t *timed) Reset(ctx context.Context, key string) error {
	start := time.Now()
	err := t.s.Reset(ctx, key)
	t.done("reset", start, err)
	return err
}

func (t *timed) Take(ctx context.Context, key string, r store.Rate, n int) (store.Decision, error) {
	start := time.Now()
	d, err := t.s.Take(ctx, key, r, n)
	t.done("take", start, err)
	return d, err
}

func (t *timed) CountAttempt(ctx context.Context, a store.Attempt) (store.AttemptResult, error) {
	start := time.Now()
	r, err := t.s.CountAttempt(ctx, a)
	t.done("count_attempt", start, err)
	return r, err
}

func (t *timed) ForgiveAttempt(ctx context.Context, a store.Attempt) error {
	start := time.Now()
	err := t.s.ForgiveAttempt(ctx, a)
	t.done("forgive_attempt", start, err)
	return err
}

func (t *timed) UncountAttempt(ctx context.Context, a store.Attempt, r store.AttemptResult) error {
	start := time.Now()
	err := t.s.UncountAttempt(ctx, a, r)
	t.done("uncount_attempt", start, err)
	return err
}

func (t *timed) ClearAttempts(ctx context.Context, group string) error {
	start := time.Now()
	err := t.s.ClearAttempts(ctx, group)
	t.done("clear_attempts", start, err)
	return err
}
