//go:build linux

package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// The plot is drawn by hand: two panels, each a few polylines with axes,
// so that it needs no library and reads in any browser or on GitHub.

type series struct {
	name, color, dash string
	pts               [][2]float64 // x, y
}

type panel struct {
	title, xlabel, ylabel string
	logY                  bool
	xs                    []float64 // x ticks, on a log scale
	series                []series
	hline                 float64 // a target, drawn dashed; 0 for none
	hlabel                string
}

// Colours and dashes per contender, the same in both panels.
var style = map[string][2]string{
	keyRaw:      {"#777777", "6 4"},
	keyTCPRelay: {"#aaaaaa", "2 3"},
	keyV1:       {"#1f77b4", ""},
	keyV2Off:    {"#2ca02c", ""},
	keyV2Auto:   {"#2ca02c", ""},
	keyWS:       {"#d62728", ""},
	keyNaive:    {"#9467bd", "2 3"},
}

// writeSVG draws throughput against concurrent sessions and memory per
// idle session against sessions.
func (r *results) writeSVG(w io.Writer) error {
	tp := panel{title: "Downloads at once: throughput in all", xlabel: "concurrent sessions", ylabel: "MB/s"}
	for _, n := range r.meta.concurrency {
		tp.xs = append(tp.xs, float64(n))
	}
	for _, k := range []string{keyRaw, keyTCPRelay, keyV1, keyV2Off, keyWS} {
		s := series{name: r.name(k), color: style[k][0], dash: style[k][1]}
		for _, n := range r.meta.concurrency {
			if v, ok := median(r.scale[k][n]); ok {
				s.pts = append(s.pts, [2]float64{float64(n), v})
			}
		}
		if len(s.pts) > 0 {
			tp.series = append(tp.series, s)
		}
	}
	mp := panel{title: "Idle sessions: memory per session", xlabel: "idle sessions", ylabel: "KiB per session", logY: true, hline: 20, hlabel: "target: 20 KiB"}
	for _, n := range r.meta.sessions {
		mp.xs = append(mp.xs, float64(n))
	}
	for _, k := range []string{keyV1, keyV2Auto, keyWS} {
		s := series{name: r.name(k), color: style[k][0], dash: style[k][1]}
		for _, n := range r.meta.sessions {
			if m, ok := r.mem[k][n]; ok && m.failed < n && m.perSession > 0 {
				s.pts = append(s.pts, [2]float64{float64(n), m.perSession})
			}
		}
		if len(s.pts) > 0 {
			mp.series = append(mp.series, s)
		}
	}

	var b strings.Builder
	const width, height = 980, 470
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	tp.draw(&b, 70, 40, 390, 300)
	mp.draw(&b, 570, 40, 390, 300)
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">%s</text>`+"\n", 20, height-12,
		html.EscapeString(fmt.Sprintf("wstelnet benchmark, %s, %s, %d cores; medians of %d; websockify: memory is the PSS of its process tree, throughput counts what arrived", r.meta.date, r.meta.cpu, r.meta.cores, r.meta.reps)))
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// draw renders the panel with its plot area at (x0, y0), w×h pixels.
func (p panel) draw(b *strings.Builder, x0, y0, w, h float64) {
	fmt.Fprintf(b, `<text x="%g" y="%g" font-size="14" font-weight="bold">%s</text>`+"\n", x0, y0-16, html.EscapeString(p.title))
	if len(p.series) == 0 || len(p.xs) == 0 {
		fmt.Fprintf(b, `<text x="%g" y="%g" fill="#555">no figures</text>`+"\n", x0+w/2-30, y0+h/2)
		return
	}
	// x: log scale over the ticks, with a margin on both sides.
	lx0, lx1 := math.Log10(p.xs[0]), math.Log10(p.xs[len(p.xs)-1])
	if lx1 == lx0 {
		lx0, lx1 = lx0-1, lx1+1
	}
	pad := (lx1 - lx0) * 0.06
	lx0, lx1 = lx0-pad, lx1+pad
	px := func(x float64) float64 { return x0 + (math.Log10(x)-lx0)/(lx1-lx0)*w }

	ymin, ymax := math.Inf(1), 0.0
	for _, s := range p.series {
		for _, pt := range s.pts {
			ymin, ymax = min(ymin, pt[1]), max(ymax, pt[1])
		}
	}
	if p.hline > 0 {
		ymin, ymax = min(ymin, p.hline), max(ymax, p.hline)
	}
	var yticks []float64
	var py func(float64) float64
	if p.logY {
		lo, hi := math.Floor(math.Log10(ymin)), math.Ceil(math.Log10(ymax))
		if hi == lo {
			hi++
		}
		for e := lo; e <= hi; e++ {
			yticks = append(yticks, math.Pow(10, e))
		}
		py = func(y float64) float64 { return y0 + h - (math.Log10(y)-lo)/(hi-lo)*h }
	} else {
		step := niceStep(ymax / 5)
		top := math.Ceil(ymax/step) * step
		for y := 0.0; y <= top+step/2; y += step {
			yticks = append(yticks, y)
		}
		py = func(y float64) float64 { return y0 + h - y/top*h }
	}

	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#333"/>`+"\n", x0, y0, w, h)
	for _, y := range yticks {
		fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/>`+"\n", x0, py(y), x0+w, py(y))
		fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-6, py(y)+4, tickLabel(y))
	}
	for _, x := range p.xs {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#ddd"/>`+"\n", px(x), y0, px(x), y0+h)
		fmt.Fprintf(b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`+"\n", px(x), y0+h+16, tickLabel(x))
	}
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", x0+w/2, y0+h+34, html.EscapeString(p.xlabel))
	fmt.Fprintf(b, `<text transform="translate(%g %g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", x0-48, y0+h/2, html.EscapeString(p.ylabel))
	if p.hline > 0 {
		fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#000" stroke-dasharray="3 3"/>`+"\n", x0, py(p.hline), x0+w, py(p.hline))
		fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end" fill="#000">%s</text>`+"\n", x0+w-4, py(p.hline)-4, html.EscapeString(p.hlabel))
	}
	for i, s := range p.series {
		var pts []string
		for _, pt := range s.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(pt[0]), py(pt[1])))
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), s.color, dash)
		for _, pt := range s.pts {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s</title></circle>`+"\n",
				px(pt[0]), py(pt[1]), s.color, html.EscapeString(s.name), tickLabel(pt[1]))
		}
		// Legend, below the plot in two columns, where it hides no line.
		lx, ly := x0+float64(i%2)*w/2, y0+h+58+float64(i/2)*18
		fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"%s/>`+"\n", lx, ly-4, lx+22, ly-4, s.color, dash)
		fmt.Fprintf(b, `<text x="%g" y="%g">%s</text>`+"\n", lx+28, ly, html.EscapeString(s.name))
	}
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func tickLabel(v float64) string {
	switch {
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 10 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}
