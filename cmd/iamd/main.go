// Command iamd runs the AWS account and identity plane.
//
//	iamd serve [flags]                         run the server (SQLite in --data-dir by default)
//	iamd account create --email E --password P create an account and its root user
//	iamd version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/iamd/iamd/internal/app"
	"github.com/iamd/iamd/internal/config"
)

var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "account":
		return account(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "iamd", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "iamd: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  iamd serve [flags]            run the server (iamd serve -h for flags)
  iamd account create [flags]   create an account and its root user
  iamd version
`)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(args []string, stdout, stderr io.Writer) int {
	cfg := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "iamd:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "iamd:", err)
		return 1
	}
	defer a.Close()
	if a.Bootstrap.Created {
		b := a.Bootstrap
		fmt.Fprintf(stdout, "iamd: created account %s\n  admin IAM user %q access key: %s\n  secret access key: %s\n  written to %s (mode 0600)\n",
			b.AccountID, b.AdminUser, b.AccessKeyID, b.SecretAccessKey, b.CredentialsFile)
		if b.RootPasswordFile != "" {
			fmt.Fprintf(stdout, "  root user password written to %s (mode 0600)\n", b.RootPasswordFile)
		}
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintln(stderr, "iamd:", err)
		return 1
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("iamd listening", "addr", ln.Addr().String(), "auth", cfg.Auth, "store", storeName(cfg), "version", version)
	fmt.Fprintf(stdout, "iamd: listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "iamd:", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

func storeName(cfg config.Config) string {
	if cfg.PostgresDSN != "" {
		return "postgres"
	}
	return "sqlite"
}

func account(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: iamd account create --email E --password P [--id 123456789012] [--name N]")
		return 2
	}
	cfg := config.Default()
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Bind(fs)
	email := fs.String("email", "", "root user email")
	password := fs.String("password", os.Getenv("IAMD_NEW_ROOT_PASSWORD"), "root user password (env IAMD_NEW_ROOT_PASSWORD)")
	id := fs.String("id", "", "12-digit account id (random when empty)")
	name := fs.String("name", "", "account name")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *email == "" || *password == "" {
		fmt.Fprintln(stderr, "iamd: --email and --password are required")
		return 2
	}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		fmt.Fprintln(stderr, "iamd:", err)
		return 1
	}
	defer a.Close()
	n := *name
	if n == "" {
		n, _, _ = strings.Cut(*email, "@")
	}
	acct, err := a.CreateAccount(ctx, *id, *email, *password, n)
	if err != nil {
		fmt.Fprintln(stderr, "iamd:", err)
		return 1
	}
	fmt.Fprintf(stdout, "account %s created; root user %s\n", acct.ID, acct.Email)
	return 0
}
