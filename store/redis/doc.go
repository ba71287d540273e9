// Package redis is a gatehouse store in Redis, for apps that run on more
// than one machine. One constructor serves a single server, a Sentinel
// setup and a Cluster, through go-redis's UniversalClient:
//
//	rdb := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: seeds})
//	st, err := redis.New(rdb, redis.Options{Prefix: "myapp"})
//
// Every operation is one round trip and atomic: validating a token is one
// GET; consuming, rotating, revoking and counting are Lua scripts. All the
// keys of one subject carry the subject's routing tag in braces
// ("myapp:{k3x9}:..."), so on a Cluster each operation stays in one slot
// and "log out everywhere" reads the subject's index instead of scanning.
// Only SHA-256 hashes of tokens are stored, never tokens, and every key has
// a TTL.
//
// [NewClient] makes the client from one string (host:port or redis:// for
// one server, several seeds or cluster:// for a Cluster, sentinel://), as a
// command-line flag would carry it, following go-redis's NewUniversalClient;
// [ParseSpec] gives the options instead, to adjust before connecting.
//
// Two options trade a little for more: [Options.WaitReplicas] makes the
// writes that consume and revoke tokens wait for replicas (WAIT, in the same
// round trip), so a failover cannot bring a consumed token back; [Options.Coalesce]
// pipelines the lookups of concurrent requests, raising validations per
// second under load without delaying a lone request. docs/redis.md says
// what a failover can lose with and without them.
//
// Times are kept to the millisecond. Every failure of Redis wraps
// store.ErrUnavailable, which gatehouse answers with 503: a request is
// never let through because Redis could not be asked.
package redis
