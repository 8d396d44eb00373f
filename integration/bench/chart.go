package main

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// latColors tell the latencies apart in the chart.
var latColors = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {148, 103, 189, 255}, {23, 190, 207, 255}}

// writeChart draws, per workload with a target, ftpmount's median ratio (to the reference tool, or to
// the limit) at each latency on a log scale, with the spread of ftpmount's samples (min-max, against
// the same reference median) as an error bar and the target as a black line. A circle met its
// target, a square missed it. Written with gonum.org/v1/plot; the format follows the file's extension.
func (b *bench) writeChart(path string) error {
	p := plot.New()
	p.Title.Text = "ftpmount / reference (log scale, lower is better). Black line: target; circle: met, square: missed;\n" +
		"vertical bar: min-max of ftpmount's samples (the reference's median as divisor)"
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Y.Label.Text = "ratio (time to reference; absolute limits: value to limit)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	var labels []string
	lo, hi := 0.5, 2.0
	for _, w := range b.workloads {
		if w.target == 0 || !b.shown(w) {
			continue
		}
		x := float64(len(labels))
		labels = append(labels, w.label)
		t := w.target
		if w.absolute() {
			t = 1
		}
		lo, hi = math.Min(lo, t), math.Max(hi, t)
		line, err := plotter.NewLine(plotter.XYs{{X: x - 0.4, Y: t}, {X: x + 0.4, Y: t}})
		if err != nil {
			return err
		}
		line.LineStyle.Width = vg.Points(2)
		p.Add(line)

		var eps []endpoint
		for _, ep := range b.endpoints {
			if !w.lat0only || ep.lat == 0 {
				eps = append(eps, ep)
			}
		}
		for j, ep := range eps {
			r, ok := b.ratio(w, ep.lat)
			if !ok || r <= 0 {
				continue
			}
			ref := r // the divisor that turned ftpmount's median into r
			if m, ok := b.res.median(ep.lat, w.id, toolFtpmount); ok {
				ref = m / r
			}
			s := b.res.cell(ep.lat, w.id, toolFtpmount).samples
			smin, smax := slices.Min(s)/ref, slices.Max(s)/ref
			lo, hi = math.Min(lo, smin), math.Max(hi, smax)

			xj := x + (float64(j)-float64(len(eps)-1)/2)*0.3
			c := latColors[b.latIndex(ep.lat)%len(latColors)]
			pts := plotter.XYs{{X: xj, Y: r}}
			bars, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{pts, plotter.YErrors{{Low: r - smin, High: smax - r}}})
			if err != nil {
				return err
			}
			bars.LineStyle.Color, bars.LineStyle.Width = c, vg.Points(1.5)
			dot, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			dot.GlyphStyle.Color, dot.GlyphStyle.Radius = c, vg.Points(5)
			dot.GlyphStyle.Shape = draw.CircleGlyph{}
			if b.met(w, ep.lat) != "yes" {
				dot.GlyphStyle.Shape = draw.BoxGlyph{}
			}
			label, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: []string{fmtRatio(r)}})
			if err != nil {
				return err
			}
			label.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(-4)}
			for i := range label.TextStyle {
				label.TextStyle[i].Font.Size = vg.Points(8)
			}
			p.Add(bars, dot, label)
		}
	}
	for i, ep := range b.endpoints {
		dot, err := plotter.NewScatter(plotter.XYs{{X: 0, Y: 1}})
		if err != nil {
			return err
		}
		dot.GlyphStyle.Color, dot.GlyphStyle.Radius, dot.GlyphStyle.Shape = latColors[i%len(latColors)], vg.Points(5), draw.CircleGlyph{}
		p.Legend.Add(fmt.Sprintf("%s each way (%s round trip)", fmtLat(ep.lat), fmtLat(2*ep.lat)), dot)
	}
	if len(labels) == 0 {
		return fmt.Errorf("nothing measured to draw")
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(labels))-0.4
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Min, p.Y.Max = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
	width := vg.Length(max(12, 1.1*float64(len(labels)))) * vg.Inch
	return p.Save(width, 7*vg.Inch, path)
}

// latIndex is the position of lat among the run's latencies (for its color).
func (b *bench) latIndex(lat time.Duration) int {
	for i, ep := range b.endpoints {
		if ep.lat == lat {
			return i
		}
	}
	return 0
}
