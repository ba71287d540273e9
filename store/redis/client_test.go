package redis_test

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

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
		{"10.0.0.1:7000", "cluster"},
		{"", ""},
		{"sentinel://10.0.0.1:26379", ""},
		{"sentinel://@10.0.0.1:26379", ""},
		{"sentinel://m@10.0.0.1", ""},
		{"memcached://10.0.0.1:11211", ""},
		{"10.0.0.1", ""},
		{"10.0.0.1:7000,,", ""},
		{"redis://[::1", ""},
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
