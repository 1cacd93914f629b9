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
	"strings"
	"syscall"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/bytesize"
	"github.com/weupload/weupload/internal/config"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
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
  migrate up|down|status                     manage the database schema
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
	case "serve", "migrate", "user", "storage":
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
	case "migrate":
		if len(rest) != 1 {
			return errors.New("usage: weupload migrate up|down|status")
		}
		pool, err := openDB(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer pool.Close()
		return database.Migrate(ctx, pool, rest[0], func(s string) { fmt.Fprintln(stdout, s) })
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

const userUsage = "usage: weupload user create --email E [--name N] [--admin] --password-stdin | user quota EMAIL SIZE|default"

func userCommand(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "quota" {
		return userQuotaCommand(ctx, cfg, logger, args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "create" {
		return errors.New(userUsage)
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "login email (required)")
	name := fs.String("name", "", "display name (default: the part of the email before @)")
	admin := fs.Bool("admin", false, "make the user an administrator")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || !*pwStdin {
		return errors.New("user create needs --email and --password-stdin")
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
	if err != nil {
		return fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")

	pool, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := auth.NewService(pool, ratelimit.New(pool), password.NewHasher(password.Default, password.DefaultSlots()))
	if err != nil {
		return err
	}
	u, err := svc.CreateUser(ctx, auth.RegisterInput{Email: *email, DisplayName: *name, Password: pw}, *admin)
	if e := asFieldErrors(err); e != "" {
		return errors.New(e)
	}
	if err != nil {
		return err
	}
	role := "user"
	if u.IsAdmin {
		role = "admin"
	}
	fmt.Fprintf(stdout, "created %s %s (%s)\n", role, u.Email, u.ID)
	return nil
}

// userQuotaCommand sets a user's quota override (files.Service.SetQuota):
// a size with units as in the configuration (50GiB), or "default" to follow
// DEFAULT_QUOTA again. Uploads in progress keep their reservation; a quota
// below what the user stores already refuses new uploads until they delete.
func userQuotaCommand(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: weupload user quota EMAIL SIZE|default (SIZE such as 50GiB or 500MB)")
	}
	quota := int64(-1) // SetQuota: negative restores the default
	if !strings.EqualFold(args[1], "default") {
		n, err := bytesize.Parse(args[1])
		if err != nil {
			return fmt.Errorf("quota %q: %w", args[1], err)
		}
		quota = n
	}
	pool, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	authSvc, err := auth.NewService(pool, ratelimit.New(pool), password.NewHasher(password.Default, password.DefaultSlots()))
	if err != nil {
		return err
	}
	user, err := authSvc.FindUserByEmail(ctx, args[0])
	if e := apperr.As(err); e != nil {
		return errors.New(e.Message)
	}
	if err != nil {
		return fmt.Errorf("find user %s: %w", args[0], err)
	}
	email, userID := user.Email, user.ID
	// Quotas are rows in the database: the service needs no blob store here.
	svc := files.New(pool, nil, filesConfig(cfg.Storage))
	if err := svc.SetQuota(ctx, userID, quota); err != nil {
		return err
	}
	u, err := svc.Usage(ctx, userID)
	if err != nil {
		return err
	}
	which := "own quota"
	if quota < 0 {
		which = "default quota"
	}
	fmt.Fprintf(stdout, "%s: %s %s, %s stored\n", email, which, bytesize.Format(u.Quota), bytesize.Format(u.Used))
	return nil
}
