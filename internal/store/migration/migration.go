// Package migration reads the embedded schema migrations of the store
// drivers and decides which are still to apply. Running them stays in each
// driver: locking, statement protocol and bookkeeping columns are dialect
// matters.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema change, applied at most once.
type Migration struct {
	Version int    // from the file name's leading number
	Name    string // file name, recorded when applied
	SQL     string
}

// Load reads every file of dir in fsys as a migration, ordered by version.
// File names must start with a positive number and '_' ("0001_records.sql");
// two files may not share a version.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// Pending returns, in order, the migrations of ms not yet applied. A version
// applied but not in ms means the database was migrated by a newer binary,
// which this one refuses to run against.
func Pending(ms []Migration, applied map[int]bool) ([]Migration, error) {
	known := make(map[int]bool, len(ms))
	for _, m := range ms {
		known[m.Version] = true
	}
	for v := range applied {
		if !known[v] {
			return nil, fmt.Errorf("database has migration %d, unknown to this version of iamd", v)
		}
	}
	var out []Migration
	for _, m := range ms {
		if !applied[m.Version] {
			out = append(out, m)
		}
	}
	return out, nil
}
