package signin

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
)

func TestCounter(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	l := Limit{Max: 3, Window: 10 * time.Minute, Lockout: 5 * time.Minute}
	type step struct {
		at         time.Duration // after t0
		fail       bool          // count a failure (else only check)
		wantLocked bool          // Locked() after the step
		wantNewly  bool          // Fail reported reaching the limit
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"locks on the third failure", []step{
			{at: 0, fail: true}, {at: time.Minute, fail: true},
			{at: 2 * time.Minute, fail: true, wantLocked: true, wantNewly: true},
			{at: 6*time.Minute + time.Second, wantLocked: true},
			{at: 7 * time.Minute}, // lockout over
		}},
		{"window expiry starts afresh", []step{
			{at: 0, fail: true}, {at: time.Minute, fail: true},
			{at: 10 * time.Minute, fail: true}, // first window over: count is 1
			{at: 11 * time.Minute, fail: true},
			{at: 12 * time.Minute, fail: true, wantLocked: true, wantNewly: true},
		}},
		{"count restarts after a lockout", []step{
			{at: 0, fail: true}, {at: 0, fail: true}, {at: 0, fail: true, wantLocked: true, wantNewly: true},
			{at: 5 * time.Minute, fail: true},
			{at: 5 * time.Minute, fail: true},
			{at: 5 * time.Minute, fail: true, wantLocked: true, wantNewly: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Counter
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				newly := false
				if s.fail {
					newly = c.Fail(l, now)
				}
				locked, wait := c.Locked(now)
				if locked != s.wantLocked || newly != s.wantNewly {
					t.Fatalf("step %d: locked=%v newly=%v, want %v %v (%+v)", i, locked, newly, s.wantLocked, s.wantNewly, c)
				}
				if locked && (wait <= 0 || wait > l.Lockout) {
					t.Fatalf("step %d: wait %v", i, wait)
				}
			}
		})
	}
}

func TestCounterDisabledAndExpiry(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var c Counter
	for range 10 {
		if c.Fail(Limit{}, t0) {
			t.Fatal("disabled limit locked")
		}
	}
	if locked, _ := c.Locked(t0); locked {
		t.Fatal("locked under a disabled limit")
	}
	if locked, _ := (*Counter)(nil).Locked(t0); locked {
		t.Fatal("nil counter locked")
	}
	l := Limit{Max: 2, Window: 10 * time.Minute, Lockout: time.Hour}
	c = Counter{}
	c.Fail(l, t0)
	if got := c.Expires(l); !got.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("Expires (window) = %v", got)
	}
	c.Fail(l, t0.Add(time.Minute))
	if got := c.Expires(l); !got.Equal(t0.Add(time.Minute + time.Hour)) {
		t.Fatalf("Expires (lockout) = %v", got)
	}
}

func TestExpiringKeysSortByTime(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	times := []time.Time{t0.Add(time.Hour), t0, t0.Add(time.Nanosecond), t0.Add(-24 * time.Hour), t0.Add(999 * time.Millisecond)}
	keys := make([]string, len(times))
	for i, tm := range times {
		keys[i] = expiringKey(tm, "zz-id")
		got, ok := keyExpiry(keys[i])
		if !ok || !got.Equal(tm) {
			t.Fatalf("keyExpiry(%q) = %v %v, want %v", keys[i], got, ok, tm)
		}
	}
	sort.Strings(keys)
	for i := 1; i < len(keys); i++ {
		a, _ := keyExpiry(keys[i-1])
		b, _ := keyExpiry(keys[i])
		if a.After(b) {
			t.Fatalf("key order is not time order: %q before %q", keys[i-1], keys[i])
		}
	}
	if _, ok := keyExpiry("no-separator"); ok {
		t.Fatal("parsed a key without expiry")
	}
}

func TestCheckRootPassword(t *testing.T) {
	long := make([]byte, 129)
	for i := range long {
		long[i] = "aA1!"[i%4]
	}
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"Abcdef1!", true},
		{"abcdefg1!", true},  // lower, digit, symbol
		{"ABCDEFG1a", true},  // upper, digit, lower
		{"Abc1!", false},     // too short
		{"abcdefgh1", false}, // two kinds
		{"ABCDEFGH", false},
		{"Root@Example.com1", true},
		{"Root@Example.com", false}, // the email (case-insensitively)
		{"MyAccount1", true},
		{string(long[:128]), true},
		{string(long), false}, // 129 characters
	} {
		err := CheckRootPassword(tc.pw, "root@example.com", "MyAccount1x")
		if (err == nil) != tc.ok {
			t.Errorf("CheckRootPassword(%q) = %v, want ok=%v", tc.pw, err, tc.ok)
		}
		var ae *apierr.Error
		if err != nil && (!errors.As(err, &ae) || ae.Code != "PasswordPolicyViolation") {
			t.Errorf("CheckRootPassword(%q) error %v is not a PasswordPolicyViolation", tc.pw, err)
		}
	}
}

func TestValidPasswordChars(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"plain Pass1!", true}, {"tab\tand\nnewline", true}, {"ümlaut", true},
		{"", false}, {"bell\a", false}, {"emoji😀", false}, {strings.Repeat("a", 129), false}, {strings.Repeat("a", 128), true},
	} {
		if got := validPasswordChars(tc.pw); got != tc.ok {
			t.Errorf("validPasswordChars(%q) = %v", tc.pw, got)
		}
	}
}
