// Package exstore is how the examples choose their store: memory by
// default, Redis when the -redis flag names one. It is the few lines an
// app of your own would write around store/memory and store/redis.
package exstore

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/store/redis"
)

// Flag defines the -redis flag on the default flag set.
func Flag() *string {
	return flag.String("redis", "", "keep tokens in Redis instead of memory: host:port or redis://host:port[/db] (one server), "+
		"host:port,host:port,... or cluster://host:port (Cluster seeds), or sentinel://master@host:port[,host:port...]")
}

// Open returns the store spec names (memory when spec is empty), a
// function that releases it, and a line saying what it is. A Redis that
// does not answer is an error now rather than 503s later.
func Open(spec string) (store.Store, func(), string, error) {
	if spec == "" {
		st := memory.New(memory.Options{})
		return st, func() { st.Close() }, "tokens in memory: restarting logs everyone out", nil
	}
	c, err := redis.NewClient(spec)
	if err != nil {
		return nil, nil, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, nil, "", fmt.Errorf("redis %s: %w", spec, err)
	}
	st, err := redis.New(c, redis.Options{})
	if err != nil {
		c.Close()
		return nil, nil, "", err
	}
	return st, func() { c.Close() }, "tokens in Redis at " + spec, nil
}
