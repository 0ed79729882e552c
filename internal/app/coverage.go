package app

import (
	"fmt"
	"io"
	"sort"

	"github.com/iamd/iamd/internal/awsproto"
)

// CoverageRow is one operation of the service models and its state.
type CoverageRow struct {
	Service, Operation string
	Implemented        bool
	Tested             bool // driven end to end through an AWS client by a test
}

// Coverage lists every operation of every embedded service model with
// whether iamd implements it; tested names the operations ("svc:Op") that
// end-to-end tests exercise.
func (a *App) Coverage(tested map[string]bool) []CoverageRow {
	var rows []CoverageRow
	for _, svc := range awsproto.Services() {
		for name := range svc.Operations {
			rows = append(rows, CoverageRow{
				Service: svc.Name, Operation: name,
				Implemented: a.Registry.Lookup(svc.Name, name) != nil,
				Tested:      tested[svc.Name+":"+name],
			})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Service != rows[j].Service {
			return rows[i].Service < rows[j].Service
		}
		return rows[i].Operation < rows[j].Operation
	})
	return rows
}

// WriteCoverage renders rows as the Markdown of docs/coverage.md.
func WriteCoverage(w io.Writer, rows []CoverageRow) {
	type tally struct{ all, impl, tested int }
	per := map[string]*tally{}
	var order []string
	for _, r := range rows {
		t := per[r.Service]
		if t == nil {
			t = &tally{}
			per[r.Service] = t
			order = append(order, r.Service)
		}
		t.all++
		if r.Implemented {
			t.impl++
		}
		if r.Implemented && r.Tested {
			t.tested++
		}
	}
	fmt.Fprintln(w, "# Operation coverage")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated from the service models and the running registry by `IAMD_UPDATE_COVERAGE=1 go test ./internal/app/ -run TestCoverageDoc`;")
	fmt.Fprintln(w, "\"tested\" means an end-to-end test drives the operation through a real AWS client (SDK for Go v2 or the AWS CLI).")
	fmt.Fprintln(w, "Operations not implemented answer AWS's error for an unsupported operation.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| service | operations | implemented | implemented and tested |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: |")
	for _, s := range order {
		t := per[s]
		fmt.Fprintf(w, "| %s | %d | %d | %d |\n", s, t.all, t.impl, t.tested)
	}
	cur := ""
	for _, r := range rows {
		if r.Service != cur {
			cur = r.Service
			fmt.Fprintf(w, "\n## %s\n\n| operation | state |\n| --- | --- |\n", cur)
		}
		state := "not yet"
		switch {
		case r.Implemented && r.Tested:
			state = "implemented, tested"
		case r.Implemented:
			state = "implemented"
		}
		fmt.Fprintf(w, "| %s | %s |\n", r.Operation, state)
	}
}
