// Package ratios reads `go test -bench` output and turns it into the table
// of docs/performance.md: each contender against the floor and the peers,
// and each target of the performance issue, met or missed.
package ratios

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Results holds every sample of every metric, by benchmark name (without
// the -GOMAXPROCS suffix) and unit.
type Results struct {
	order   []string
	samples map[string]map[string][]float64
	Config  []string // goos, goarch, cpu, cores and gover lines
}

// Parse reads benchmark output.
func Parse(r io.Reader) (*Results, error) {
	res := &Results{samples: map[string]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, p := range []string{"goos:", "goarch:", "cpu:", "cores:", "gover:"} {
			if strings.HasPrefix(line, p) && !slices.Contains(res.Config, line) {
				res.Config = append(res.Config, line)
			}
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := res.samples[name]
		if m == nil {
			m = map[string][]float64{}
			res.samples[name] = m
			res.order = append(res.order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			m[f[i+1]] = append(m[f[i+1]], v)
		}
	}
	return res, sc.Err()
}

// Median returns the median of a benchmark's metric, or NaN.
func (r *Results) Median(name, unit string) float64 {
	s := slices.Clone(r.samples[name][unit])
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Has reports whether the output holds the benchmark.
func (r *Results) Has(name string) bool { return r.samples[name] != nil }

// Contenders of BenchmarkValidate, in the order of the output.
func (r *Results) contenders() []string {
	var out []string
	for _, n := range r.order {
		if c, ok := strings.CutPrefix(n, "Validate/serial/"); ok {
			out = append(out, c)
		}
	}
	for _, n := range r.order {
		if c, ok := strings.CutPrefix(n, "Validate/parallel16/"); ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Table writes the ratio table as Markdown: per contender, time, bytes and
// allocations per request serially, time per request under 16 goroutines,
// both against the floor of its kind (the in-process floor, or the Redis
// floor on the same topology), and round trips.
func (r *Results) Table(w io.Writer) {
	fmt.Fprintln(w, "| contender | serial ns/op | × floor | B/op | allocs/op | 16 goroutines ns/op | × floor | Redis round trips/op |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, c := range r.contenders() {
		s, p := "Validate/serial/"+c, "Validate/parallel16/"+c
		floor := floorOf(c)
		rt := "–"
		if v := r.Median(s, "roundtrips/op"); !math.IsNaN(v) {
			pv := r.Median(p, "roundtrips/op")
			rt = fmt.Sprintf("%.2f / %.2f", v, pv)
			// Pipelined (coalesced) lookups: a round trip carries several
			// GETs; say how many, so that < 1 reads as what it is.
			if cmds := r.Median(p, "cmds/op"); !math.IsNaN(cmds) && pv > 0 && math.Abs(cmds-pv) > 0.005 {
				rt += fmt.Sprintf(" (%.2f cmds/op: %.1f per pipeline)", cmds, cmds/pv)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c,
			num(r.Median(s, "ns/op")), ratio(r.Median(s, "ns/op"), r.Median("Validate/serial/"+floor, "ns/op")),
			num(r.Median(s, "B/op")), num(r.Median(s, "allocs/op")),
			num(r.Median(p, "ns/op")), ratio(r.Median(p, "ns/op"), r.Median("Validate/parallel16/"+floor, "ns/op")),
			rt)
	}
}

// floorOf names the floor a contender is held against.
func floorOf(c string) string {
	switch {
	case strings.HasSuffix(c, "cluster"):
		return "floor-cluster"
	case strings.Contains(c, "redis"):
		return "floor-redis"
	}
	return "floor"
}

// Target is one target of the performance issue.
type Target struct {
	What     string
	Measured string
	Met      bool
	Missing  bool // not measured in this output
}

// Targets evaluates every target the output measures.
func (r *Results) Targets() []Target {
	var ts []Target
	ser := func(c string) float64 { return r.Median("Validate/serial/"+c, "ns/op") }
	par := func(c string) float64 { return r.Median("Validate/parallel16/"+c, "ns/op") }
	for _, c := range []string{"gatehouse-memory-bearer", "gatehouse-memory-cookie"} {
		x := ser(c) / ser("floor")
		ts = append(ts, target("memory-store validation ("+c+") ≤ 1.5× the floor", x, x <= 1.5, "%.2f×"))
		x = ser("scs-memstore") / ser(c)
		ts = append(ts, target("  ≥ 15× faster than scs memstore", x, x >= 15, "%.1f× faster"))
		x = ser("jwt-hs256") / ser(c)
		ts = append(ts, target("  ≥ 5× faster than JWT HS256", x, x >= 5, "%.1f× faster"))
		a := r.Median("Validate/serial/"+c, "allocs/op")
		ts = append(ts, target("  ≤ 10 allocs", a, a <= 10, "%.0f allocs"))
	}
	for _, c := range []string{"gatehouse-redis", "gatehouse-cluster"} {
		a, b := r.Median("Validate/serial/"+c, "roundtrips/op"), r.Median("Validate/parallel16/"+c, "roundtrips/op")
		ts = append(ts, target(c+": exactly 1 Redis round trip per validation", math.Max(a, b), a == 1 && b == 1, "%.3f"))
	}
	x := par("scs-goredisstore") / par("gatehouse-redis")
	ts = append(ts, target("Redis validation ≥ 2× faster than scs goredisstore, 16 goroutines", x, x >= 2, "%.2f× faster"))
	if v := r.Median("E2E", "guarded/unguarded"); !math.IsNaN(v) {
		ts = append(ts, target("end to end (quickstart GET /me, 16 connections) ≥ 0.85× the req/s without the guard", v, v >= 0.85, "%.2f×"))
	} else {
		ts = append(ts, Target{What: "end to end ≥ 0.85× the req/s without the guard", Missing: true})
	}
	for _, h := range []string{"default", "1"} {
		name := "LoginFlood/hashes=" + h
		setting := h
		if n := r.Median(name, "hash-slots"); h == "default" && !math.IsNaN(n) {
			setting = fmt.Sprintf("default, GOMAXPROCS-1 = %.0f", n)
		}
		what := "login flood (200 in flight, MaxConcurrentHashes " + setting + "): p99 of the protected route ≤ 2× idle"
		if v := r.Median(name, "p99-flood/idle"); !math.IsNaN(v) {
			ts = append(ts, target(what, v, v <= 2, "%.2f×"))
		} else {
			ts = append(ts, Target{What: what, Missing: true})
		}
	}
	for _, per := range []string{"1", "2", "10"} {
		name := "MemoryPerToken/tokens-per-subject=" + per
		if v := r.Median(name, "bytes/token"); !math.IsNaN(v) {
			ts = append(ts, target("≤ 250 bytes per live token in the memory store, 1M tokens, "+per+" per subject", v, v <= 250, "%.0f B"))
		} else {
			ts = append(ts, Target{What: "≤ 250 bytes per live token in memory, " + per + " per subject", Missing: true})
		}
	}
	return ts
}

func target(what string, v float64, met bool, format string) Target {
	if math.IsNaN(v) {
		return Target{What: what, Missing: true}
	}
	return Target{What: what, Measured: fmt.Sprintf(format, v), Met: met}
}

// Coalescing writes how gatehouse-redis-coalesced compares with
// gatehouse-redis under 16 goroutines, when the output has both. It is
// not issue 10's target, which is set at 64 concurrent requests and
// measured by store/redis BenchmarkCoalesce.
func (r *Results) Coalescing(w io.Writer) {
	const plain, co = "Validate/parallel16/gatehouse-redis", "Validate/parallel16/gatehouse-redis-coalesced"
	if !r.Has(plain) || !r.Has(co) {
		return
	}
	rt, cmds := r.Median(co, "roundtrips/op"), r.Median(co, "cmds/op")
	fmt.Fprintf(w, "Coalesced lookups, 16 goroutines, standalone Redis: %s× the validations/s of gatehouse-redis "+
		"(%s against %s ns/op); %.2f round trips (pipelines or lone GETs) and %.2f GETs per validation; "+
		"Redis CPU %s against %s ns per validation.\n",
		ratio(r.Median(plain, "ns/op"), r.Median(co, "ns/op")), num(r.Median(co, "ns/op")), num(r.Median(plain, "ns/op")),
		rt, cmds, num(r.Median(co, "redis-cpu-ns/op")), num(r.Median(plain, "redis-cpu-ns/op")))
}

// Report writes the whole of it: the ratio table, the targets, the
// coalescing comparison and the capacity model.
func (r *Results) Report(w io.Writer) {
	r.Table(w)
	fmt.Fprintln(w)
	r.TargetTable(w)
	fmt.Fprintln(w)
	var co strings.Builder
	r.Coalescing(&co)
	if co.Len() > 0 {
		fmt.Fprintln(w, co.String())
	}
	r.Capacity(w)
	r.SecondFactors(w)
}

// SecondFactors writes, for each second-factor benchmark measured
// (BenchmarkTOTPVerify, BenchmarkPasskey*), every sub-benchmark's time
// and its ratio to the library it is built on, measured in the same run:
// the sub-benchmark whose name is not "gatehouse-…".
func (r *Results) SecondFactors(w io.Writer) {
	var groups []string
	for _, n := range r.order {
		g, _, ok := strings.Cut(n, "/")
		if ok && (g == "TOTPVerify" || strings.HasPrefix(g, "Passkey")) && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| second factor | ns/op | × library | B/op | allocs/op |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|")
	for _, g := range groups {
		base := math.NaN()
		for _, n := range r.order {
			if sub, ok := strings.CutPrefix(n, g+"/"); ok && !strings.HasPrefix(sub, "gatehouse") {
				base = r.Median(n, "ns/op")
			}
		}
		for _, n := range r.order {
			if strings.HasPrefix(n, g+"/") {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", n, num(r.Median(n, "ns/op")), ratio(r.Median(n, "ns/op"), base),
					num(r.Median(n, "B/op")), num(r.Median(n, "allocs/op")))
			}
		}
	}
}

// TargetTable writes the targets as Markdown.
func (r *Results) TargetTable(w io.Writer) {
	fmt.Fprintln(w, "| target | measured | |")
	fmt.Fprintln(w, "|---|--:|---|")
	for _, t := range r.Targets() {
		state := "missed"
		switch {
		case t.Missing:
			state, t.Measured = "not measured", "–"
		case t.Met:
			state = "met"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.What, t.Measured, state)
	}
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

func ratio(v, floor float64) string {
	if math.IsNaN(v) || math.IsNaN(floor) || floor == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", v/floor)
}

// Contenders names the contenders of BenchmarkValidate, in the order of
// the output.
func (r *Results) Contenders() []string { return r.contenders() }

// Names lists every benchmark of the output, in its order, without the
// -GOMAXPROCS suffix.
func (r *Results) Names() []string { return r.order }
