// Command weupload is the We-Upload server and its admin commands, in one
// binary that carries its templates, assets and migrations.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/weupload/weupload/internal/config"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "weupload:", err)
		os.Exit(1)
	}
}

const usage = `usage: weupload <command> [flags]

commands:
  serve [--no-migrate]                       run the server (applies pending migrations first)
  worker                                     run background jobs only (no web server; metrics on
                                             METRICS_ADDR); see docs/operations.md
  migrate up|down|status                     manage the database schema (ours, then River's job
                                             queue tables; down rolls back ours only)
  user create --email E [--name N] [--admin] --password-stdin
                                             create an account (reads the password from stdin)
  user quota EMAIL SIZE|default              set a user's storage quota (e.g. 50GiB), or go back
                                             to DEFAULT_QUOTA
  storage init                               create the S3 bucket and its CORS rule for BASE_URL
                                             (development and docker compose; the disk store
                                             just creates STORAGE_DIR)
  version                                    print the version

Configuration comes from the environment; see the README.`

// run is the whole program: it parses args, wires dependencies explicitly
// and returns the first error. main only reports it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("missing command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version":
		fmt.Fprintf(stdout, "weupload %s (%s)\n", version, commit)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	case "serve", "worker", "migrate", "user", "storage":
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(stdout, cfg.LogLevel)

	switch cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return serve(ctx, cfg, logger, !*noMigrate)
	case "worker":
		if len(rest) > 0 {
			return errors.New("usage: weupload worker (no arguments)")
		}
		return worker(ctx, cfg, logger)
	case "migrate":
		return migrateCommand(ctx, cfg, logger, rest, stdout)
	case "storage":
		return storageCommand(ctx, cfg, logger, rest, stdout)
	default: // user
		return userCommand(ctx, cfg, logger, rest, stdin, stdout, stderr)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by config
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
