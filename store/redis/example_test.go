package redis_test

import (
	"context"
	"fmt"
	"os"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// tagKey stands for the app's tokens.Config.TagKey: a secret of at least
// 32 bytes from its configuration, the same on every instance.
var tagKey = []byte("example routing-tag key; load yours from secrets")

// One constructor for a single server, a Cluster and Sentinel: build the
// go-redis client for your set-up and hand it to New. This example needs a
// Redis server, so it is compiled but not run.
func ExampleNew() {
	// A Cluster, from any of its nodes; the client finds the rest. The
	// timeouts bound how long a request waits on a dead node before it is
	// answered 503 store_unavailable.
	rdb := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:        []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"},
		DialTimeout:  time.Second,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
	})
	defer rdb.Close()

	st, err := redis.New(rdb, redis.Options{
		Prefix: "myapp", // keys are myapp:{tag}:... and myapp:c:...
		// Consuming, rotating and revoking wait for one replica, so a
		// failover cannot bring back a token that was already spent.
		WaitReplicas: 1,
	})
	if err != nil {
		panic(err)
	}
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	if err != nil {
		panic(err)
	}
	_ = tm // then auth.New(auth.Config{Tokens: tm, Counters: st, ...})

	// New sends nothing; a Ping at start-up finds a wrong address early.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		fmt.Println("redis:", err)
	}
}

// NewClient reads the one-string forms a flag or an environment variable
// carries. It does not connect. One address is one server; a Cluster is
// named by several seeds, or by one behind cluster://.
func ExampleNewClient() {
	for _, spec := range []string{
		"redis://10.0.0.5:6379/0",
		"10.0.0.5:6379",
		"10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000",
		"cluster://10.0.0.1:7000",
		"sentinel://mymaster@10.0.0.1:26379,10.0.0.2:26379",
		"memcached://10.0.0.5:11211",
	} {
		c, err := redis.NewClient(spec)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%T\n", c)
		c.Close()
	}
	// Output:
	// *redis.Client
	// *redis.Client
	// *redis.ClusterClient
	// *redis.ClusterClient
	// *redis.Client
	// redis: "memcached://10.0.0.5:11211": unknown scheme; want redis://, rediss://, cluster://, sentinel:// or host:port
}

// ParseSpec gives the options before connecting, so an app can set what a
// spec cannot say.
func ExampleParseSpec() {
	opts, err := redis.ParseSpec("cluster://10.0.0.1:7000")
	if err != nil {
		panic(err)
	}
	opts.ReadTimeout = 250 * time.Millisecond
	opts.Password = os.Getenv("REDIS_PASSWORD")
	c := goredis.NewUniversalClient(opts)
	defer c.Close()
	fmt.Printf("%T\n", c)
	// Output:
	// *redis.ClusterClient
}
