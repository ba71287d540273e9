package ratios

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// cores is the machine's core count from the "cores:" line runbench
// writes, or 2 (the machine the targets are for).
func (r *Results) cores() float64 {
	for _, line := range r.Config {
		if v, ok := strings.CutPrefix(line, "cores:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return float64(n)
			}
		}
	}
	return 2
}

// Capacity writes the capacity model's inputs, taken from the output, and
// what they imply for 10k, 100k and 1M requests/s. Every figure is a
// rough bound from one noisy machine, meant for sizing by order of
// magnitude.
func (r *Results) Capacity(w io.Writer) {
	cores := r.cores()
	memNs := r.Median("Validate/serial/gatehouse-memory-bearer", "ns/op")
	redisCPU := r.Median("Validate/parallel16/gatehouse-redis", "redis-cpu-ns/op")
	clusterCPU := r.Median("Validate/parallel16/gatehouse-cluster", "redis-cpu-ns/op")
	redisPar := r.Median("Validate/parallel16/gatehouse-redis", "ns/op")
	appRedisNs := redisPar*cores - redisCPU // the app's share of the 2 cores the run had
	e2e := r.Median("E2E", "guarded-req/s")
	bcrypt := r.Median("Bcrypt", "ms/check")
	perToken := r.Median("MemoryPerToken/tokens-per-subject=1", "bytes/token")
	redisMiB := r.Median("RedisMemory", "MiB/1M-sessions")

	perMaster := 1e9 / redisCPU
	perCoreE2E := e2e / cores
	fmt.Fprintln(w, "| input (this run) | value |")
	fmt.Fprintln(w, "|---|--:|")
	fmt.Fprintf(w, "| memory-store validation, one core | %s ns → %s validations/s |\n", num(memNs), kilo(1e9/memNs))
	fmt.Fprintf(w, "| Redis validation, app CPU (16 goroutines × cores − Redis CPU) | %s ns → %s validations/s per app core |\n", num(appRedisNs), kilo(1e9/appRedisNs))
	fmt.Fprintf(w, "| Redis validation, Redis CPU (standalone / cluster, INFO cpu) | %s ns / %s ns → %s validations/s per master |\n", num(redisCPU), num(clusterCPU), kilo(perMaster))
	if co := r.Median("Validate/parallel16/gatehouse-redis-coalesced", "redis-cpu-ns/op"); !math.IsNaN(co) {
		fmt.Fprintf(w, "| Redis validation, Redis CPU, coalesced (standalone, 16 goroutines) | %s ns → %s validations/s per master |\n", num(co), kilo(1e9/co))
	}
	fmt.Fprintf(w, "| end to end GET /me with the guard (load generator on the same %.0f cores) | %s req/s → ≥ %s req/s per app core |\n", cores, kilo(e2e), kilo(perCoreE2E))
	fmt.Fprintf(w, "| bcrypt cost 10, one check | %s ms → %s logins/s per core |\n", num(bcrypt), num(1000/bcrypt))
	fmt.Fprintf(w, "| memory store, per live session (1 per subject) | %s B → %s MiB per 1M sessions |\n", num(perToken), num(perToken*1e6/(1<<20)))
	fmt.Fprintf(w, "| Redis used_memory, per live session | %s MiB per 1M sessions |\n", num(redisMiB))
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| requests/s | app cores (end to end) | of which validation, Redis store | Cluster masters (at 50% CPU) | bcrypt cores at 1% of requests being logins |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|")
	for _, rps := range []float64{1e4, 1e5, 1e6} {
		logins := rps / 100
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s (%s logins/s) |\n", kilo(rps),
			ceil(rps/perCoreE2E), ceil(rps*appRedisNs/1e9), ceil(rps/(perMaster*0.5)),
			ceil(logins*bcrypt/1000), kilo(logins))
	}
}

func ceil(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(math.Ceil(v), 'f', 0, 64)
}

func kilo(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
