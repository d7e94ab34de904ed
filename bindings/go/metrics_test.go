package flowdb

import (
	"errors"
	"strings"
	"testing"
)

// Constant labels go on every sample, escaped; bad label names are refused.
func TestMetricsLabels(t *testing.T) {
	e, err := Open(t.TempDir(), &Options{NoAutoBackground: true, MetricsLabels: []MetricsLabel{
		{Name: "db", Value: `sen"sors`}, {Name: "region", Value: "eu"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m, err := e.MetricsText()
	if err != nil {
		t.Fatal(err)
	}
	samples := 0
	for _, line := range strings.Split(m, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		samples++
		if !strings.Contains(line, `{db="sen\"sors",region="eu"`) {
			t.Fatalf("a sample without the labels: %q", line)
		}
	}
	if samples == 0 {
		t.Fatal("no samples")
	}
	for _, bad := range []string{"__reserved", "1abc", "le"} {
		_, err := Open(t.TempDir(), &Options{MetricsLabels: []MetricsLabel{{Name: bad, Value: "x"}}})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("label name %q: %v", bad, err)
		}
	}
}
