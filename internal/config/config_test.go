package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := Default()
	if c.Listen != "127.0.0.1:7900" || c.DataDir != "data" || c.Auth != AuthEnforce || c.DefaultAccountID != "123456789012" || c.ShutdownTimeout != 10*time.Second {
		t.Fatalf("defaults changed: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

// Flags win over IAMD_* variables, which win over defaults.
func TestEnvAndFlags(t *testing.T) {
	t.Setenv("IAMD_LISTEN", "0.0.0.0:9000")
	t.Setenv("IAMD_AUTH", "soft")
	t.Setenv("IAMD_REQUIRE_ROOT_MFA", "true")
	t.Setenv("IAMD_SHUTDOWN_TIMEOUT", "3s")
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Bind(fs)
	if err := fs.Parse([]string{"--auth", "off", "--data-dir", "/tmp/x"}); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9000" || c.Auth != AuthOff || c.DataDir != "/tmp/x" || !c.RequireRootMFA || c.ShutdownTimeout != 3*time.Second {
		t.Fatalf("got %+v", c)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" for valid
	}{
		{"enforce", func(c *Config) { c.Auth = AuthEnforce }, ""},
		{"bad auth mode", func(c *Config) { c.Auth = "maybe" }, "--auth"},
		{"short account id", func(c *Config) { c.DefaultAccountID = "12345" }, "12 digits"},
		{"letters in account id", func(c *Config) { c.DefaultAccountID = "12345678901a" }, "12 digits"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "--data-dir"},
		{"postgres still needs a data dir", func(c *Config) { c.DataDir, c.PostgresDSN = "", "postgres://x" }, "--data-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mod(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
