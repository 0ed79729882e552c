package policy

import (
	"fmt"
	"slices"
	"testing"
)

// TestContextMany exercises the hash table past several growths, deletes
// and re-inserts, against a plain map as the reference.
func TestContextMany(t *testing.T) {
	for _, start := range []int{0, 1, 32} {
		t.Run(fmt.Sprint(start), func(t *testing.T) {
			var c *Context
			if start == 0 {
				c = &Context{} // the zero value must work too
			} else {
				c = NewContext(start)
			}
			ref := map[string]string{}
			for i := range 300 {
				k := fmt.Sprintf("Svc:Key%d", i)
				if i%2 == 0 {
					c.Set(k, fmt.Sprint(i))
				} else {
					c.SetString(k, fmt.Sprint(i))
				}
				ref[fmt.Sprintf("svc:key%d", i)] = fmt.Sprint(i)
			}
			for i := 0; i < 300; i += 3 {
				c.Delete(fmt.Sprintf("SVC:KEY%d", i))
				delete(ref, fmt.Sprintf("svc:key%d", i))
			}
			c.Set("svc:key1", "again") // replace keeps one entry
			ref["svc:key1"] = "again"
			if c.Len() != len(ref) {
				t.Fatalf("Len = %d, want %d", c.Len(), len(ref))
			}
			for i := range 300 {
				k := fmt.Sprintf("svc:key%d", i)
				v, ok := c.Get(k)
				want, wok := ref[k]
				if ok != wok || (ok && (len(v) != 1 || v[0] != want)) {
					t.Fatalf("Get(%s) = %v %v, want %q %v", k, v, ok, want, wok)
				}
			}
			keys := c.Keys()
			slices.Sort(keys)
			var wantKeys []string
			for k := range ref {
				wantKeys = append(wantKeys, k)
			}
			slices.Sort(wantKeys)
			if !slices.Equal(keys, wantKeys) {
				t.Fatalf("Keys differ: %d vs %d", len(keys), len(wantKeys))
			}
		})
	}
}

// TestContextCopy: a copy is independent of its source both ways.
func TestContextCopy(t *testing.T) {
	src := NewContext(2)
	src.Set("aws:username", "bob")
	src.Set("aws:principaltag/team", "blue")
	dst := NewContext(1)
	dst.Set("stale:key", "x")
	dst.CopyFrom(src)
	if _, ok := dst.Get("stale:key"); ok {
		t.Fatal("CopyFrom kept a key of the destination")
	}
	dst.Set("aws:username", "alice")
	dst.Add("aws:principaltag/team", "red")
	for i := range 40 { // forces the copy's table to grow
		dst.Set(fmt.Sprintf("k:%d", i), "v")
	}
	if v, _ := src.Get("aws:username"); v[0] != "bob" {
		t.Fatalf("source changed through the copy: %v", v)
	}
	if v, _ := src.Get("aws:principaltag/team"); len(v) != 1 {
		t.Fatalf("Add on the copy changed the source: %v", v)
	}
	if src.Len() != 2 {
		t.Fatalf("source Len = %d", src.Len())
	}
	cl := dst.Clone()
	if cl.Len() != dst.Len() {
		t.Fatalf("Clone Len = %d, want %d", cl.Len(), dst.Len())
	}
	if v, _ := cl.Get("aws:principaltag/team"); !slices.Equal(v, []string{"blue", "red"}) {
		t.Fatalf("Clone values %v", v)
	}
	if (*Context)(nil).Clone().Len() != 0 {
		t.Fatal("nil Clone not empty")
	}
}

// TestContextMemoInvalidated: parsed values are memoized per request, and
// replacing a value must drop the memo, for each typed operator.
func TestContextMemoInvalidated(t *testing.T) {
	cases := []struct {
		name, cond, key, first, second string
		firstOK, secondOK              bool
	}{
		{"ip", `"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}`, "aws:SourceIp", "10.1.2.3", "192.0.2.1", true, false},
		{"ip-invalid-then-valid", `"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}`, "aws:SourceIp", "nonsense", "10.0.0.1", false, true},
		{"mapped", `"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}`, "aws:SourceIp", "::ffff:10.0.0.1", "::ffff:11.0.0.1", true, false},
		{"number", `"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}`, "aws:MultiFactorAuthAge", "10", "7200", true, false},
		{"date", `"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}`, "aws:CurrentTime", "2019-06-01T00:00:00Z", "2021-01-01T00:00:00Z", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{` + tc.cond + `}}]}`
			p, err := Parse([]byte(doc), Identity)
			if err != nil {
				t.Fatal(err)
			}
			set := NewSet(p)
			ctx := NewContext(4)
			ctx.Set(tc.key, tc.first)
			req := &Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx}
			var res Result
			for range 2 { // the second evaluation reads the memo
				set.Evaluate(req, &res)
				if res.Allowed != tc.firstOK {
					t.Fatalf("first value: Allowed = %v, want %v", res.Allowed, tc.firstOK)
				}
			}
			ctx.Set(tc.key, tc.second)
			set.Evaluate(req, &res)
			if res.Allowed != tc.secondOK {
				t.Fatalf("after Set: Allowed = %v, want %v", res.Allowed, tc.secondOK)
			}
			ctx.Set(tc.key, tc.first)
			ctx.Add(tc.key, tc.second) // now multi-valued: any value may match
			set.Evaluate(req, &res)
			if want := tc.firstOK || tc.secondOK; res.Allowed != want {
				t.Fatalf("after Add: Allowed = %v, want %v", res.Allowed, want)
			}
		})
	}
}

// TestContextSetStringStable: values handed out before a Reset or an
// arena refill keep their contents.
func TestContextSetStringStable(t *testing.T) {
	c := NewContext(2)
	var held [][]string
	for i := range 3 * arenaChunk {
		c.SetString("a:k", fmt.Sprint(i))
		v, _ := c.Get("a:k")
		held = append(held, v)
		c.Add("a:k", "extra") // must not write into the arena's next slot
		if i%7 == 0 {
			c.Reset()
		}
	}
	for i, v := range held {
		if len(v) != 1 || v[0] != fmt.Sprint(i) {
			t.Fatalf("value %d became %v", i, v)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		c.Reset()
		c.SetString("aws:username", "bob")
	}); n > 0.05 {
		t.Fatalf("SetString allocates %.2f per call", n)
	}
}
