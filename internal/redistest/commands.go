package redistest

import (
	"context"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Commands is a go-redis hook that counts the commands a client sends,
// each command of a pipeline included, so that a test can say how many
// round trips an operation costs. On a cluster client, add it to the
// cluster client only: it then counts each command once, whichever node
// takes it.
type Commands struct{ N atomic.Int64 }

var _ redis.Hook = (*Commands)(nil)

// DialHook implements redis.Hook; dials are not counted.
func (c *Commands) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (c *Commands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.N.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *Commands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.N.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
