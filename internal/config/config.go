// Package config holds iamd's configuration: flags, each also settable as an
// IAMD_* environment variable (flags win).
package config

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Auth modes.
const (
	AuthEnforce = "enforce" // authenticate and authorize every request
	AuthSoft    = "soft"    // authenticate, evaluate, log would-be denials, allow
	AuthOff     = "off"     // test mode: unknown keys act as the default account's root
)

// Config is everything `iamd serve` needs.
type Config struct {
	Listen           string
	DataDir          string
	Auth             string
	DefaultAccountID string
	RootEmail        string
	RootPassword     string
	PostgresDSN      string
	LogLevel         string
	LogFormat        string
	ShutdownTimeout  time.Duration
	// RequireRootMFA: every root user without an MFA device may only call
	// what enrolling one needs (see docs/root-user.md).
	RequireRootMFA bool
	// Signup enables POST /signin/api/signup: anyone who can reach the
	// server may create an account, as anyone may sign up for AWS. Off by
	// default; `iamd account create` always works.
	Signup bool

	// Mail (root password recovery links). With no SMTPAddr, messages are
	// written to <data-dir>/outbox instead.
	SMTPAddr     string
	SMTPFrom     string
	SMTPUsername string
	SMTPPassword string
	// PublicURL is the externally reachable base URL of this server, put
	// into links in mail; empty means http://<listen address>.
	PublicURL string
}

// Default returns the defaults: iamd listens on 127.0.0.1:7900 and keeps its
// data in ./data.
func Default() Config {
	return Config{
		Listen:           "127.0.0.1:7900",
		DataDir:          "data",
		Auth:             AuthEnforce,
		DefaultAccountID: "123456789012",
		RootEmail:        "root@example.com",
		LogLevel:         "info",
		LogFormat:        "text",
		ShutdownTimeout:  10 * time.Second,
	}
}

// Bind registers the flags on fs with env-aware defaults; call Validate after fs.Parse.
func (c *Config) Bind(fs *flag.FlagSet) {
	str := func(p *string, name, usage string) {
		fs.StringVar(p, name, env(name, *p), usage+" (env "+envName(name)+")")
	}
	str(&c.Listen, "listen", "address to listen on")
	str(&c.DataDir, "data-dir", "directory for the SQLite database and key files")
	str(&c.Auth, "auth", "enforce | soft | off")
	str(&c.DefaultAccountID, "default-account-id", "12-digit id of the account bootstrapped on first start")
	str(&c.RootEmail, "root-email", "root user email of the default account")
	str(&c.RootPassword, "root-password", "root user password of the default account on first start (generated and written to the data directory when empty)")
	str(&c.PostgresDSN, "postgres-dsn", "PostgreSQL DSN; when set, state is kept there instead of SQLite")
	str(&c.LogLevel, "log-level", "debug | info | warn | error")
	str(&c.LogFormat, "log-format", "text | json")
	str(&c.SMTPAddr, "smtp-addr", "SMTP relay host:port for outgoing mail (STARTTLS when offered); empty writes mail to <data-dir>/outbox")
	str(&c.SMTPFrom, "smtp-from", "sender address of outgoing mail")
	str(&c.SMTPUsername, "smtp-username", "SMTP AUTH user name (PLAIN, over TLS or to localhost only)")
	str(&c.SMTPPassword, "smtp-password", "SMTP AUTH password (prefer the environment variable: flags show in process lists)")
	str(&c.PublicURL, "public-url", "externally reachable base URL (https://iamd.example.com) used in links sent by mail")
	fs.BoolVar(&c.Signup, "signup", envBool("signup", c.Signup), "allow anyone to create an account with POST /signin/api/signup (env IAMD_SIGNUP)")
	fs.BoolVar(&c.RequireRootMFA, "require-root-mfa", envBool("require-root-mfa", c.RequireRootMFA), "root users without an MFA device may only enrol one (env IAMD_REQUIRE_ROOT_MFA)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDuration("shutdown-timeout", c.ShutdownTimeout), "how long to drain requests on shutdown (env IAMD_SHUTDOWN_TIMEOUT)")
}

// Validate checks values.
func (c *Config) Validate() error {
	switch c.Auth {
	case AuthEnforce, AuthSoft, AuthOff:
	default:
		return fmt.Errorf("config: --auth must be enforce, soft or off, not %q", c.Auth)
	}
	if len(c.DefaultAccountID) != 12 || strings.Trim(c.DefaultAccountID, "0123456789") != "" {
		return fmt.Errorf("config: --default-account-id must be 12 digits, not %q", c.DefaultAccountID)
	}
	// Even with PostgreSQL the data directory holds the at-rest key file
	// and the bootstrap credentials.
	if c.DataDir == "" {
		return fmt.Errorf("config: --data-dir is required")
	}
	return nil
}

func envName(flagName string) string {
	return "IAMD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func env(flagName, def string) string {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		return v
	}
	return def
}

func envDuration(flagName string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func envBool(flagName string, def bool) bool {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return def
}
