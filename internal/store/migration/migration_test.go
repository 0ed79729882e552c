package migration

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int  // versions, in order
		wantErr string // substring; "" for success
	}{
		{
			name: "ordered by version, not by name",
			files: fstest.MapFS{
				"m/10_later.sql": {Data: []byte("B")},
				"m/2_first.sql":  {Data: []byte("A")},
			},
			want: []int{2, 10},
		},
		{name: "empty", files: fstest.MapFS{"m": {Mode: fs.ModeDir | 0o755}}, want: nil},
		{name: "no number", files: fstest.MapFS{"m/x_a.sql": {}}, wantErr: "positive number"},
		{name: "no underscore", files: fstest.MapFS{"m/0001.sql": {}}, wantErr: "positive number"},
		{name: "zero", files: fstest.MapFS{"m/0_a.sql": {}}, wantErr: "positive number"},
		{name: "shared version", files: fstest.MapFS{"m/1_a.sql": {}, "m/01_b.sql": {}}, wantErr: "share a version"},
		{name: "no directory", files: fstest.MapFS{}, wantErr: "migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(tt.files, "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load = %v, %v; want error with %q", ms, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
				if want := string(tt.files["m/"+m.Name].Data); m.SQL != want {
					t.Errorf("%s: SQL = %q, want %q", m.Name, m.SQL, want)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("versions = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("versions = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestPending(t *testing.T) {
	ms := []Migration{{Version: 1, Name: "1_a"}, {Version: 2, Name: "2_b"}, {Version: 3, Name: "3_c"}}
	tests := []struct {
		name    string
		applied map[int]bool
		want    string // names joined
		wantErr bool
	}{
		{name: "fresh", applied: map[int]bool{}, want: "1_a,2_b,3_c"},
		{name: "partly", applied: map[int]bool{1: true, 3: true}, want: "2_b"},
		{name: "all", applied: map[int]bool{1: true, 2: true, 3: true}, want: ""},
		{name: "newer database", applied: map[int]bool{1: true, 4: true}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pending(ms, tt.applied)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Pending err = %v, want error %v", err, tt.wantErr)
			}
			var names []string
			for _, m := range got {
				names = append(names, m.Name)
			}
			if s := strings.Join(names, ","); s != tt.want {
				t.Errorf("Pending = %q, want %q", s, tt.want)
			}
		})
	}
}
