package redis

import (
	"fmt"
	"net"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// NewClient makes a go-redis client from one string, the form a command-line
// flag or an environment variable carries:
//
//	redis://[user:pass@]host:port[/db]     one server (rediss:// for TLS;
//	                                       any go-redis URL option works)
//	host:port[,host:port...]               a Cluster, from its seed nodes
//	sentinel://master@host:port[,host:port...]
//	                                       a Sentinel setup: the master's
//	                                       name and the sentinels
//
// It does not connect. For anything the forms cannot say (passwords for a
// Cluster or Sentinel, TLS settings, pool sizes), build the client with
// go-redis and pass it to New.
func NewClient(spec string) (goredis.UniversalClient, error) {
	switch {
	case spec == "":
		return nil, fmt.Errorf("redis: empty address")
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		opt, err := goredis.ParseURL(spec)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		return goredis.NewClient(opt), nil
	case strings.HasPrefix(spec, "sentinel://"):
		master, hosts, ok := strings.Cut(strings.TrimPrefix(spec, "sentinel://"), "@")
		if !ok || master == "" {
			return nil, fmt.Errorf("redis: %q: want sentinel://master@host:port[,host:port...]", spec)
		}
		addrs, err := hostPorts(hosts)
		if err != nil {
			return nil, err
		}
		return goredis.NewFailoverClient(&goredis.FailoverOptions{MasterName: master, SentinelAddrs: addrs}), nil
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("redis: %q: unknown scheme; want redis://, rediss://, sentinel:// or host:port seeds of a Cluster", spec)
	default:
		addrs, err := hostPorts(spec)
		if err != nil {
			return nil, err
		}
		return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs}), nil
	}
}

func hostPorts(list string) ([]string, error) {
	var addrs []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return nil, fmt.Errorf("redis: %q is not host:port", a)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}
