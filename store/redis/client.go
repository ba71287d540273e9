package redis

import (
	"fmt"
	"net"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// ClusterScheme starts a spec that names a Cluster by one seed node (or
// more): "cluster://host:port[,host:port...]". Without it one host:port is
// a single server, as in go-redis's NewUniversalClient.
const ClusterScheme = "cluster://"

// NewClient makes a go-redis client from one string, the form a command-line
// flag or an environment variable carries (see [ParseSpec] for the forms).
// It is ParseSpec followed by go-redis's NewUniversalClient, and does not
// connect. To adjust what the forms cannot say (timeouts, pool sizes, a
// Cluster's password, TLS settings), call ParseSpec, change the options, and
// pass them to goredis.NewUniversalClient yourself.
func NewClient(spec string) (goredis.UniversalClient, error) {
	opts, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	return goredis.NewUniversalClient(opts), nil
}

// ParseSpec reads a Redis address spec into the options of go-redis's
// NewUniversalClient, which picks the client from them as the spec says:
//
//	host:port                              one server
//	redis://[user:pass@]host:port[/db]     one server (rediss:// for TLS;
//	                                       any go-redis URL option works)
//	host:port,host:port[,...]              a Cluster, from its seed nodes
//	cluster://host:port[,host:port...]     a Cluster, even from one seed
//	sentinel://master@host:port[,host:port...]
//	                                       a Sentinel setup: the master's
//	                                       name and the sentinels
//
// These follow go-redis's convention: one address is a plain client,
// several are a Cluster, and a master name is Sentinel. The options it
// returns are the caller's to change before connecting; keep MasterName,
// IsClusterMode and the number of Addrs as they are, or the client changes
// kind.
func ParseSpec(spec string) (*goredis.UniversalOptions, error) {
	switch {
	case spec == "":
		return nil, fmt.Errorf("redis: empty address")
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		opt, err := goredis.ParseURL(spec)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		return universal(opt), nil
	case strings.HasPrefix(spec, ClusterScheme):
		addrs, err := hostPorts(strings.TrimPrefix(spec, ClusterScheme))
		if err != nil {
			return nil, err
		}
		return &goredis.UniversalOptions{Addrs: addrs, IsClusterMode: true}, nil
	case strings.HasPrefix(spec, "sentinel://"):
		master, hosts, ok := strings.Cut(strings.TrimPrefix(spec, "sentinel://"), "@")
		if !ok || master == "" {
			return nil, fmt.Errorf("redis: %q: want sentinel://master@host:port[,host:port...]", spec)
		}
		addrs, err := hostPorts(hosts)
		if err != nil {
			return nil, err
		}
		return &goredis.UniversalOptions{MasterName: master, Addrs: addrs}, nil
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("redis: %q: unknown scheme; want redis://, rediss://, %s, sentinel:// or host:port", spec, ClusterScheme)
	default:
		addrs, err := hostPorts(spec)
		if err != nil {
			return nil, err
		}
		return &goredis.UniversalOptions{Addrs: addrs}, nil
	}
}

// universal carries what goredis.ParseURL can set into UniversalOptions,
// whose Simple method gives it back (TestParseSpecURL checks that nothing
// is lost).
func universal(o *goredis.Options) *goredis.UniversalOptions {
	return &goredis.UniversalOptions{
		Addrs:                   []string{o.Addr},
		Username:                o.Username,
		Password:                o.Password,
		DB:                      o.DB,
		TLSConfig:               o.TLSConfig,
		Protocol:                o.Protocol,
		ClientName:              o.ClientName,
		MaxRetries:              o.MaxRetries,
		MinRetryBackoff:         o.MinRetryBackoff,
		MaxRetryBackoff:         o.MaxRetryBackoff,
		DialTimeout:             o.DialTimeout,
		ReadTimeout:             o.ReadTimeout,
		WriteTimeout:            o.WriteTimeout,
		PoolFIFO:                o.PoolFIFO,
		PoolSize:                o.PoolSize,
		PoolTimeout:             o.PoolTimeout,
		MinIdleConns:            o.MinIdleConns,
		MaxIdleConns:            o.MaxIdleConns,
		MaxActiveConns:          o.MaxActiveConns,
		MaxConcurrentDials:      o.MaxConcurrentDials,
		PipelinePoolSize:        o.PipelinePoolSize,
		PipelineReadBufferSize:  o.PipelineReadBufferSize,
		PipelineWriteBufferSize: o.PipelineWriteBufferSize,
		ConnMaxIdleTime:         o.ConnMaxIdleTime,
		ConnMaxLifetime:         o.ConnMaxLifetime,
		ConnMaxLifetimeJitter:   o.ConnMaxLifetimeJitter,
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
