package loadtest

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"
)

// WriteSummary writes the run's figures, the audit, and last the line "divergence: N".
func (res *Result) WriteSummary(w io.Writer) {
	done := 0
	for _, h := range res.Latency {
		done += int(h.TotalCount())
	}
	fmt.Fprintf(w, "run %s: %d requests due in %v, %d answered (%.0f/s), %d late (not sent on time)\n",
		res.RunID, res.Scheduled, res.Elapsed.Round(time.Millisecond), done, float64(done)/res.Elapsed.Seconds(), res.Late)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tanswers\tp50\tp90\tp99\tp99.9\tmax\t")
	for _, k := range Kinds {
		h := res.Latency[k]
		if h.TotalCount() == 0 {
			continue
		}
		q := func(p float64) time.Duration { return time.Duration(h.ValueAtQuantile(p)) * time.Microsecond }
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t%v\t%v\t%v\t\n", k, h.TotalCount(), q(50), q(90), q(99), q(99.9),
			time.Duration(h.Max())*time.Microsecond)
	}
	tw.Flush()
	fmt.Fprintln(w, "answers by status and code:")
	for _, k := range Kinds {
		labels := make([]string, 0, len(res.Answers[k]))
		for l := range res.Answers[k] {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		for _, l := range labels {
			fmt.Fprintf(w, "  %-6s %-32s %d\n", k, l, res.Answers[k][l])
		}
	}
	o := res.Orders
	fmt.Fprintf(w, "orders: %d confirmed, %d refused, %d without an answer after retries, %d retries\n", o.Confirmed, o.Refused, o.Unknown, o.Retries)
	fmt.Fprintf(w, "audit: %d orders confirmed to the run, %d of the run's orders in the ERP\n", res.Audit.Confirmed, res.Audit.Found)
	for _, d := range res.Audit.Divergences {
		fmt.Fprintln(w, "  "+d)
	}
	fmt.Fprintf(w, "divergence: %d\n", len(res.Audit.Divergences))
}
