package awsproto

import (
	"reflect"
	"testing"
	"time"
)

func TestDocumentHelpers(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	d := map[string]any{
		"S": "x", "I": int64(7), "I32": int32(8), "B": true, "T": now,
		"L": []any{"a", 1}, "LS": []string{"p", "q"}, "M": map[string]any{"k": "v"}, "Nil": nil,
	}
	if got := Str(d, "S"); got != "x" {
		t.Errorf("Str = %q", got)
	}
	for _, k := range []string{"I", "Missing", "Nil"} {
		if got := Str(d, k); got != "" {
			t.Errorf("Str(%s) = %q", k, got)
		}
	}
	intTests := []struct {
		k    string
		want int64
		ok   bool
	}{{"I", 7, true}, {"I32", 8, true}, {"S", 0, false}, {"Missing", 0, false}}
	for _, tt := range intTests {
		if got, ok := Int(d, tt.k); got != tt.want || ok != tt.ok {
			t.Errorf("Int(%s) = %d, %v", tt.k, got, ok)
		}
	}
	if b, ok := Bool(d, "B"); !b || !ok {
		t.Error("Bool(B)")
	}
	if _, ok := Bool(d, "Missing"); ok {
		t.Error("Bool(Missing) present")
	}
	if tm, ok := Time(d, "T"); !ok || !tm.Equal(now) {
		t.Error("Time(T)")
	}
	if got := List(d, "L"); !reflect.DeepEqual(got, []any{"a", 1}) {
		t.Errorf("List(L) = %v", got)
	}
	if got := List(d, "LS"); !reflect.DeepEqual(got, []any{"p", "q"}) {
		t.Errorf("List(LS) = %v", got)
	}
	if List(d, "S") != nil || List(d, "Missing") != nil {
		t.Error("List of non-list not nil")
	}
	if got := Strings(d, "L"); !reflect.DeepEqual(got, []string{"a"}) {
		t.Errorf("Strings(L) = %v", got)
	}
	if got := Struct(d, "M"); got["k"] != "v" {
		t.Errorf("Struct(M) = %v", got)
	}
	if Struct(d, "S") != nil {
		t.Error("Struct(S) not nil")
	}
}
