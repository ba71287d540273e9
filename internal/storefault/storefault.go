// Package storefault wraps a store so tests can take it down and bring it
// back, to show that callers fail closed.
package storefault

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

// Store passes calls to the store it wraps while up, and fails every call
// with an error wrapping store.ErrUnavailable while down. It also counts
// calls, so tests can show that garbage never reaches the store.
type Store struct {
	store.Store
	down  atomic.Bool
	calls atomic.Int64
	// touches counts the Touch calls, each a possible write on the path
	// of an authenticated request.
	touches atomic.Int64
}

var _ store.Store = (*Store)(nil)

// Wrap returns an up Store around s.
func Wrap(s store.Store) *Store { return &Store{Store: s} }

// SetDown takes the store down (true) or brings it back (false).
func (s *Store) SetDown(down bool) { s.down.Store(down) }

// Calls returns how many calls reached the wrapper.
func (s *Store) Calls() int64 { return s.calls.Load() }

// Touches returns how many Touch calls reached the wrapper.
func (s *Store) Touches() int64 { return s.touches.Load() }

func (s *Store) fail() error {
	s.calls.Add(1)
	if s.down.Load() {
		return fmt.Errorf("%w: storefault: down", store.ErrUnavailable)
	}
	return nil
}

func (s *Store) Put(ctx context.Context, id store.ID, rec store.Record) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Put(ctx, id, rec)
}

func (s *Store) Get(ctx context.Context, id store.ID) (store.Record, bool, error) {
	if err := s.fail(); err != nil {
		return store.Record{}, false, err
	}
	return s.Store.Get(ctx, id)
}

func (s *Store) Consume(ctx context.Context, id store.ID) (store.Record, bool, error) {
	if err := s.fail(); err != nil {
		return store.Record{}, false, err
	}
	return s.Store.Consume(ctx, id)
}

func (s *Store) Rotate(ctx context.Context, old, next store.ID, lifetime time.Duration) (store.Rotation, error) {
	if err := s.fail(); err != nil {
		return store.Rotation{}, err
	}
	return s.Store.Rotate(ctx, old, next, lifetime)
}

func (s *Store) Touch(ctx context.Context, id store.ID, minInterval time.Duration) (bool, error) {
	s.touches.Add(1)
	if err := s.fail(); err != nil {
		return false, err
	}
	return s.Store.Touch(ctx, id, minInterval)
}

func (s *Store) Delete(ctx context.Context, id store.ID) (bool, error) {
	if err := s.fail(); err != nil {
		return false, err
	}
	return s.Store.Delete(ctx, id)
}

func (s *Store) DeleteAll(ctx context.Context, tag, subject string, f store.Filter) (int, error) {
	if err := s.fail(); err != nil {
		return 0, err
	}
	return s.Store.DeleteAll(ctx, tag, subject, f)
}

func (s *Store) List(ctx context.Context, tag, subject string, f store.Filter) ([]store.Item, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, tag, subject, f)
}

func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (store.Count, error) {
	if err := s.fail(); err != nil {
		return store.Count{}, err
	}
	return s.Store.Hit(ctx, key, window)
}

func (s *Store) Peek(ctx context.Context, key string) (store.Count, error) {
	if err := s.fail(); err != nil {
		return store.Count{}, err
	}
	return s.Store.Peek(ctx, key)
}

func (s *Store) Reset(ctx context.Context, key string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Reset(ctx, key)
}

func (s *Store) Take(ctx context.Context, key string, r store.Rate, n int) (store.Decision, error) {
	if err := s.fail(); err != nil {
		return store.Decision{}, err
	}
	return s.Store.Take(ctx, key, r, n)
}

func (s *Store) CountAttempt(ctx context.Context, a store.Attempt) (store.AttemptResult, error) {
	if err := s.fail(); err != nil {
		return store.AttemptResult{}, err
	}
	return s.Store.CountAttempt(ctx, a)
}

func (s *Store) ForgiveAttempt(ctx context.Context, a store.Attempt) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.ForgiveAttempt(ctx, a)
}

func (s *Store) UncountAttempt(ctx context.Context, a store.Attempt, r store.AttemptResult) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.UncountAttempt(ctx, a, r)
}

func (s *Store) ClearAttempts(ctx context.Context, group string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.ClearAttempts(ctx, group)
}
