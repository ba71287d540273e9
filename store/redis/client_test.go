package redis_test

import (
	"reflect"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/store/redis"
)

func TestNewClientForms(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want string // "client", "cluster" or "" for an error
	}{
		{"redis://127.0.0.1:6379", "client"},
		{"redis://:secret@127.0.0.1:6379/2", "client"},
		{"rediss://cache.internal:6380", "client"},
		{"sentinel://mymaster@10.0.0.1:26379,10.0.0.2:26379", "client"},
		{"10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000", "cluster"},
		{"10.0.0.1:7000", "client"}, // one address is one server, as in go-redis
		{"127.0.0.1:6379", "client"},
		{"cluster://10.0.0.1:7000", "cluster"},
		{"cluster://10.0.0.1:7000,10.0.0.2:7000", "cluster"},
		{"", ""},
		{"cluster://", ""},
		{"cluster://10.0.0.1", ""},
		{"sentinel://10.0.0.1:26379", ""},
		{"sentinel://@10.0.0.1:26379", ""},
		{"sentinel://m@10.0.0.1", ""},
		{"memcached://10.0.0.1:11211", ""},
		{"unix:///run/redis.sock", ""},
		{"10.0.0.1", ""},
		{"10.0.0.1:7000,,", ""},
		{"redis://[::1", ""},
		{"redis://127.0.0.1:6379?no_such_option=1", ""},
	} {
		c, err := redis.NewClient(tc.spec)
		got := ""
		switch c.(type) {
		case *goredis.Client:
			got = "client"
		case *goredis.ClusterClient:
			got = "cluster"
		}
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("NewClient(%q) = %s, %v; want %q", tc.spec, got, err, tc.want)
		}
		if c != nil {
			c.Close()
		}
	}
}

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want goredis.UniversalOptions
	}{
		{"10.0.0.1:7000", goredis.UniversalOptions{Addrs: []string{"10.0.0.1:7000"}}},
		{"10.0.0.1:7000, 10.0.0.2:7000", goredis.UniversalOptions{Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000"}}},
		{"cluster://10.0.0.1:7000", goredis.UniversalOptions{Addrs: []string{"10.0.0.1:7000"}, IsClusterMode: true}},
		{"sentinel://mymaster@10.0.0.1:26379", goredis.UniversalOptions{Addrs: []string{"10.0.0.1:26379"}, MasterName: "mymaster"}},
		{"redis://u:p@10.0.0.1:6380/3", goredis.UniversalOptions{Addrs: []string{"10.0.0.1:6380"}, Username: "u", Password: "p", DB: 3}},
	} {
		got, err := redis.ParseSpec(tc.spec)
		if err != nil || !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
}

// TestParseSpecURL checks that a redis:// URL loses none of what go-redis
// reads from it on the way through UniversalOptions.
func TestParseSpecURL(t *testing.T) {
	const url = "rediss://user:pw@cache.internal:6380/4?protocol=2&client_name=gh&max_retries=2" +
		"&min_retry_backoff=3ms&max_retry_backoff=40ms&dial_timeout=1s&read_timeout=250ms&write_timeout=260ms" +
		"&pool_fifo=true&pool_size=7&pool_timeout=500ms&min_idle_conns=1&max_idle_conns=3&max_active_conns=9" +
		"&max_concurrent_dials=2&pipeline_pool_size=-1&pipeline_read_buffer_size=1024&pipeline_write_buffer_size=2048" +
		"&conn_max_idle_time=1m&conn_max_lifetime=1h&conn_max_lifetime_jitter=1m&skip_verify=true"
	want, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := redis.ParseSpec(url)
	if err != nil {
		t.Fatal(err)
	}
	got := opts.Simple()
	got.Network = want.Network // UniversalOptions has no Network; tcp is the default
	if !reflect.DeepEqual(got, want) {
		gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
		for i := range gv.NumField() {
			if f := gv.Type().Field(i); f.IsExported() && !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
				t.Errorf("%s = %v, want %v", f.Name, gv.Field(i), wv.Field(i))
			}
		}
	}
}

// TestNewClientOneServer: one host:port talks to a standalone server,
// which a Cluster client would not (ERR This instance has cluster support
// disabled), so `-redis 127.0.0.1:6379` works in the examples.
func TestNewClientOneServer(t *testing.T) {
	srv := redistest.Standalone(t)
	c, err := redis.NewClient(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, ok := c.(*goredis.Client); !ok {
		t.Fatalf("NewClient(%q) = %T, want *redis.Client", srv.Addr, c)
	}
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
}

// TestParseSpecThenAdjust is the reason ParseSpec exists: an app reads the
// spec, sets what the spec cannot say, and connects.
func TestParseSpecThenAdjust(t *testing.T) {
	srv := redistest.Standalone(t)
	opts, err := redis.ParseSpec("redis://" + srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	opts.ReadTimeout, opts.ClientName = 250*time.Millisecond, "gatehouse-test"
	c := goredis.NewUniversalClient(opts)
	t.Cleanup(func() { c.Close() })
	name, err := c.ClientGetName(t.Context()).Result()
	if err != nil || name != "gatehouse-test" {
		t.Fatalf("CLIENT GETNAME = %q, %v; want gatehouse-test", name, err)
	}
}
