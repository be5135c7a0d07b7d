// Package promtest reads Prometheus metrics in tests the way Prometheus
// does: it scrapes the text exposition over HTTP and parses it with
// Prometheus's own parser (expfmt), so a test checks what a scrape sees.
package promtest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are parsed metric families by name.
type Families map[string]*dto.MetricFamily

// Scrape GETs url and parses the text exposition.
func Scrape(t testing.TB, url string) Families {
	t.Helper()
	f, err := TryScrape(url)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TryScrape is Scrape returning its error, for polling.
func TryScrape(url string) (Families, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain") // the text format, not protobuf
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return Parse(resp.Body)
}

// Parse parses the text exposition format.
func Parse(r io.Reader) (Families, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	return p.TextToMetricFamilies(r)
}

// find returns the metric of family name whose labels include labels
// ("k", "v" pairs), or nil.
func (f Families) find(name string, labels ...string) *dto.Metric {
	mf := f[name]
	if mf == nil {
		return nil
	}
outer:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
					break
				}
			}
			if !found {
				continue outer
			}
		}
		return m
	}
	return nil
}

// Value is the value of a gauge, counter or untyped metric with those
// labels; ok is false when there is none.
func (f Families) Value(name string, labels ...string) (v float64, ok bool) {
	m := f.find(name, labels...)
	switch {
	case m == nil:
		return 0, false
	case m.Gauge != nil:
		return m.GetGauge().GetValue(), true
	case m.Counter != nil:
		return m.GetCounter().GetValue(), true
	case m.Untyped != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

// Histogram is the sample count and sum of a histogram with those labels.
func (f Families) Histogram(name string, labels ...string) (count uint64, sum float64, ok bool) {
	m := f.find(name, labels...)
	if m == nil || m.Histogram == nil {
		return 0, 0, false
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum(), true
}

// Describe lists a family's samples, for failure messages.
func (f Families) Describe(name string) string {
	mf := f[name]
	if mf == nil {
		return name + ": absent"
	}
	var b strings.Builder
	for _, m := range mf.GetMetric() {
		b.WriteString(name + "{")
		for i, lp := range m.GetLabel() {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%s=%q", lp.GetName(), lp.GetValue())
		}
		b.WriteString("} ")
		switch {
		case m.Gauge != nil:
			fmt.Fprintf(&b, "%g", m.GetGauge().GetValue())
		case m.Counter != nil:
			fmt.Fprintf(&b, "%g", m.GetCounter().GetValue())
		case m.Histogram != nil:
			fmt.Fprintf(&b, "count=%d sum=%g", m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum())
		}
		b.WriteString("\n")
	}
	return b.String()
}
