package signin

import "time"

// Limit is one throttling rule: after Max failures within Window the
// subject is locked out for Lockout. Zero Max disables the rule.
type Limit struct {
	Max     int
	Window  time.Duration
	Lockout time.Duration
}

// Limits are the sign-in throttling rules.
type Limits struct {
	// Principal counts failed sign-ins per claimed identity (account and
	// user name, or root email), whether or not it exists, so the lockout
	// itself reveals nothing.
	Principal Limit
	// SourceIP counts failed sign-ins per client address, across
	// identities, against password spraying. It is looser than Principal
	// because many people can share one address.
	SourceIP Limit
	// RecoveryMail bounds recovery mails per root email, against mail
	// flooding; requests over it are answered as usual and send nothing.
	RecoveryMail Limit
}

// DefaultLimits: five wrong passwords in 15 minutes lock an identity out
// for 15 minutes; twenty from one address lock the address; at most three
// recovery mails per address per hour.
func DefaultLimits() Limits {
	return Limits{
		Principal:    Limit{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
		SourceIP:     Limit{Max: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
		RecoveryMail: Limit{Max: 3, Window: time.Hour, Lockout: time.Hour},
	}
}

// Counter is the stored failure state of one subject. Its methods are pure:
// the caller passes the time and stores the result.
type Counter struct {
	Failures    int       `json:"failures"`
	WindowStart time.Time `json:"windowStart"`
	LockedUntil time.Time `json:"lockedUntil,omitzero"`
}

// Locked reports whether the subject is locked out at now, and for how long.
func (c *Counter) Locked(now time.Time) (bool, time.Duration) {
	if c == nil || !now.Before(c.LockedUntil) {
		return false, 0
	}
	return true, c.LockedUntil.Sub(now)
}

// Fail counts one failure at now under l. It reports whether this failure
// reached the limit (the subject is locked from now on).
func (c *Counter) Fail(l Limit, now time.Time) bool {
	if l.Max <= 0 {
		return false
	}
	if c.Failures == 0 || !now.Before(c.WindowStart.Add(l.Window)) {
		// The previous window is over: start counting afresh.
		c.Failures, c.WindowStart = 0, now
	}
	c.Failures++
	if c.Failures >= l.Max {
		// The lockout consumes the window: after it the count starts over.
		c.LockedUntil = now.Add(l.Lockout)
		c.Failures = 0
		return true
	}
	return false
}

// Expires is when the counter stops mattering and may be deleted.
func (c *Counter) Expires(l Limit) time.Time {
	end := c.WindowStart.Add(l.Window)
	if c.LockedUntil.After(end) {
		return c.LockedUntil
	}
	return end
}
