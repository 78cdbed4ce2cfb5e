package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

// WriteReport writes the run as one self-contained HTML page (inline SVG, no scripts, no
// network): latency and throughput over time, latency by percentile per kind, the
// summary and the audit.
func (res *Result) WriteReport(w io.Writer) error {
	var summary strings.Builder
	res.WriteSummary(&summary)
	var p50, p99, done, errs []float64
	for _, s := range res.Seconds {
		p50 = append(p50, ms(s.P50))
		p99 = append(p99, ms(s.P99))
		done = append(done, float64(s.Done))
		errs = append(errs, float64(s.Errors))
	}
	quantiles := []float64{50, 75, 90, 95, 99, 99.9, 99.99}
	var perKind []series
	for i, k := range Kinds {
		h := res.Latency[k]
		if h.TotalCount() == 0 {
			continue
		}
		var ys []float64
		for _, q := range quantiles {
			ys = append(ys, ms(time.Duration(h.ValueAtQuantile(q))*time.Microsecond))
		}
		perKind = append(perKind, series{string(k), colors[i], ys})
	}
	var qLabels []string
	for _, q := range quantiles {
		qLabels = append(qLabels, fmt.Sprintf("p%g", q))
	}
	return reportPage.Execute(w, map[string]any{
		"Run":         res.RunID,
		"Started":     res.Started.UTC().Format(time.RFC3339),
		"Summary":     summary.String(),
		"Divergences": res.Audit.Divergences,
		"Latency":     chart("latency over time (ms)", "second of the run", nil, []series{{"p50", colors[0], p50}, {"p99", colors[2], p99}}),
		"Throughput":  chart("answers per second", "second of the run", nil, []series{{"answers", colors[1], done}, {"5xx and no answer", colors[2], errs}}),
		"Percentiles": chart("latency by percentile (ms)", "percentile", qLabels, perKind),
	})
}

var colors = []string{"#1f77b4", "#2ca02c", "#d62728", "#9467bd"}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type series struct {
	Name, Color string
	Y           []float64
}

// chart draws series as lines on shared axes, as SVG.
func chart(title, xTitle string, xLabels []string, ss []series) template.HTML {
	const W, H, L, B, T, R = 720.0, 260.0, 60.0, 40.0, 30.0, 150.0
	n, top := 0, 0.0
	for _, s := range ss {
		n = max(n, len(s.Y))
		for _, y := range s.Y {
			top = math.Max(top, y)
		}
	}
	if top == 0 {
		top = 1
	}
	x := func(i int) float64 { return L + (W-L-R)*float64(i)/math.Max(1, float64(n-1)) }
	y := func(v float64) float64 { return H - B - (H-B-T)*v/top }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`, W, H)
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="13">%s</text>`, L, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#888"/>`, L, H-B, W-R, H-B)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#888"/>`, L, T, L, H-B)
	for _, f := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%.3g</text>`, L-4, y(top*f)+4, top*f)
	}
	for i := 0; i < n; i += max(1, n/10) {
		label := fmt.Sprint(i + 1)
		if xLabels != nil {
			label = xLabels[i]
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, x(i), H-B+14, template.HTMLEscapeString(label))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, L+(W-L-R)/2, H-6, template.HTMLEscapeString(xTitle))
	for j, s := range ss {
		var pts []string
		for i, v := range s.Y {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, s.Color, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="10" height="10" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`,
			W-R+10, T+float64(j)*16, s.Color, W-R+24, T+float64(j)*16+9, template.HTMLEscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text in it is escaped above
}

var reportPage = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>b2bridge load test {{.Run}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}pre{background:#f6f6f6;padding:1em;overflow:auto}
.ok{color:#2ca02c}.bad{color:#d62728}</style></head><body>
<h1>b2bridge load test {{.Run}}</h1><p>started {{.Started}}</p>
{{if .Divergences}}<h2 class="bad">divergence: {{len .Divergences}}</h2><ul>{{range .Divergences}}<li>{{.}}</li>{{end}}</ul>
{{else}}<h2 class="ok">divergence: 0</h2><p>Every order the run was told about is in the ERP exactly once, as confirmed, and the ERP holds no other order of the run.</p>{{end}}
<h2>Over time</h2>{{.Latency}}{{.Throughput}}
<h2>Latency by percentile</h2>{{.Percentiles}}
<h2>Summary</h2><pre>{{.Summary}}</pre>
</body></html>
`))
