// Package charts draws the pictures of docs/performance.md from the same
// benchmark output the ratio tables come from: what one validation costs
// each contender (in process and through Redis), and what a login flood
// does to the latency of the protected route.
package charts

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/gatehouse-go/gatehouse/bench/internal/ratios"
)

// The colours of the two series of each chart, and of gatehouse's own
// bars, chosen to stay apart for colour-blind readers (Okabe-Ito).
var (
	blue   = color.RGBA{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}
	orange = color.RGBA{R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF}
)

// Files are the charts Write draws, by file name.
var Files = []string{"validation.png", "login-flood.png"}

// Write draws every chart from res into dir as PNG files and returns
// their paths. A chart whose benchmarks are missing from res (a run with
// -only-validate has no flood) is skipped, not drawn empty.
func Write(res *ratios.Results, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, c := range []struct {
		file string
		draw func(*ratios.Results) (io.WriterTo, error)
	}{
		{Files[0], validation},
		{Files[1], loginFlood},
	} {
		img, err := c.draw(res)
		if err != nil {
			return written, fmt.Errorf("%s: %w", c.file, err)
		}
		if img == nil {
			continue
		}
		path := filepath.Join(dir, c.file)
		f, err := os.Create(path)
		if err != nil {
			return written, err
		}
		_, err = img.WriteTo(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, fmt.Errorf("%s: %w", path, err)
		}
		written = append(written, path)
	}
	return written, nil
}

// validation draws one panel per kind of store: the in-process contenders
// and the Redis ones, since a round trip to Redis dwarfs everything done
// in process and one axis for both would hide the in-process differences.
// Each contender has two bars, serial and 16 goroutines, labelled with
// their ratio to the floor of their kind.
func validation(res *ratios.Results) (io.WriterTo, error) {
	var local, remote []string
	for _, c := range res.Contenders() {
		if c == "baseline" { // an unguarded handler: no validation at all
			continue
		}
		if strings.Contains(c, "redis") || strings.Contains(c, "cluster") {
			remote = append(remote, c)
		} else {
			local = append(local, c)
		}
	}
	if len(local)+len(remote) == 0 {
		return nil, nil
	}
	var panels []*plot.Plot
	for _, p := range []struct {
		title     string
		names     []string
		floorName func(string) string
	}{
		{"In process: one validation", local, func(string) string { return "floor" }},
		{"Through Redis: one validation", remote, redisFloor},
	} {
		if len(p.names) == 0 {
			continue
		}
		pl, err := groupedBars(res, p.title, p.names, p.floorName)
		if err != nil {
			return nil, err
		}
		panels = append(panels, pl)
	}
	const w, rowH = 22 * vg.Centimeter, 9 * vg.Centimeter
	img := vgimg.NewWith(vgimg.UseWH(w, rowH*vg.Length(len(panels))), vgimg.UseDPI(110))
	dc := draw.New(img)
	rows := make([][]*plot.Plot, len(panels))
	for i, pl := range panels {
		rows[i] = []*plot.Plot{pl}
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Centimeter / 2, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 6}
	canvases := plot.Align(rows, tiles, dc)
	for i, pl := range panels {
		pl.Draw(canvases[i][0])
	}
	return vgimg.PngCanvas{Canvas: img}, nil
}

// redisFloor is the floor a Redis contender is held against: the
// hand-written client on the same topology.
func redisFloor(c string) string {
	if strings.HasSuffix(c, "cluster") {
		return "floor-cluster"
	}
	return "floor-redis"
}

// groupedBars draws serial and 16-goroutine ns/op, in microseconds, of
// names as horizontal bars, each labelled with its ratio to its floor.
func groupedBars(res *ratios.Results, title string, names []string, floorName func(string) string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "µs per request (shorter is better); label: × the floor of its kind"
	p.X.Min = 0
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Millimeter * 2
	p.Legend.TextStyle.Font.Size = font.Length(9)

	// Bars are drawn bottom up: reverse so the output's order reads top down.
	rev := make([]string, len(names))
	for i, n := range names {
		rev[len(names)-1-i] = n
	}
	const barW = vg.Length(7)
	var maxV float64
	for _, mode := range []struct {
		prefix, legend string
		color          color.Color
		offset         vg.Length
	}{
		{"Validate/serial/", "serial", blue, barW / 2},
		{"Validate/parallel16/", "16 goroutines", orange, -barW / 2},
	} {
		vals := make(plotter.Values, len(rev))
		var labels plotter.XYLabels
		for j, c := range rev {
			v := res.Median(mode.prefix+c, "ns/op") / 1000
			if math.IsNaN(v) {
				v = 0
			}
			vals[j] = v
			maxV = math.Max(maxV, v)
			text := ""
			if f := res.Median(mode.prefix+floorName(c), "ns/op") / 1000; v > 0 && f > 0 {
				text = fmt.Sprintf(" %.2f×", v/f)
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: v, Y: float64(j) + float64(mode.offset)/float64(barW)*0.17})
			labels.Labels = append(labels.Labels, text)
		}
		bars, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return nil, err
		}
		bars.Horizontal = true
		bars.Color = mode.color
		bars.LineStyle.Width = 0
		bars.Offset = mode.offset
		p.Add(bars)
		p.Legend.Add(mode.legend, bars)

		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		for k := range l.TextStyle {
			l.TextStyle[k].Font.Size = 7
			l.TextStyle[k].YAlign = draw.YCenter
		}
		p.Add(l)
	}
	p.X.Max = maxV * 1.18 // room for the ratio labels
	p.NominalY(rev...)
	p.Y.Tick.Label.Font.Size = font.Length(8)
	p.Add(plotter.NewGrid())
	return p, nil
}

// loginFlood draws the protected route's latency, median and 99th
// percentile, with no logins and with 200 logins in flight, for each
// bound on concurrent hashes the run measured.
func loginFlood(res *ratios.Results) (io.WriterTo, error) {
	var runs []string
	for _, n := range res.Names() {
		if strings.HasPrefix(n, "LoginFlood/") {
			runs = append(runs, n)
		}
	}
	if len(runs) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "GET /me while 200 logins are in flight"
	p.Y.Label.Text = "latency of the protected route, µs"
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true

	var ticks []string
	for _, r := range runs {
		name := strings.TrimPrefix(r, "LoginFlood/hashes=")
		if name == "default" {
			name = "default hash bound"
		} else if name == "1" {
			name = "one hash at a time"
		} else {
			name += " hashes at a time"
		}
		ticks = append(ticks, "p50, "+name, "p99, "+name)
	}
	const barW = vg.Length(14)
	var maxV float64
	for _, s := range []struct {
		legend, when string
		color        color.Color
		offset       vg.Length
	}{
		{"idle", "idle", blue, -barW / 2},
		{"during the flood", "flood", orange, barW / 2},
	} {
		var vals plotter.Values
		for _, r := range runs {
			for _, q := range []string{"p50", "p99"} {
				v := res.Median(r, s.when+"-"+q+"-µs")
				if math.IsNaN(v) {
					v = 0
				}
				maxV = math.Max(maxV, v)
				vals = append(vals, v)
			}
		}
		bars, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return nil, err
		}
		bars.Color = s.color
		bars.LineStyle.Width = 0
		bars.Offset = s.offset
		p.Add(bars)
		p.Legend.Add(s.legend, bars)
	}
	p.Y.Max = maxV * 1.3 // room for the legend above the tallest bar
	p.NominalX(ticks...)
	p.X.Tick.Label.Font.Size = font.Length(8)
	p.Legend.TextStyle.Font.Size = font.Length(9)
	p.Add(plotter.NewGrid())

	img := vgimg.NewWith(vgimg.UseWH(18*vg.Centimeter, 9*vg.Centimeter), vgimg.UseDPI(110))
	p.Draw(draw.Crop(draw.New(img), vg.Millimeter*3, -vg.Millimeter*8, vg.Millimeter*3, -vg.Millimeter*3))
	return vgimg.PngCanvas{Canvas: img}, nil
}
