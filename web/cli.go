package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/blob/s3"
	"github.com/weupload/weupload/internal/bytesize"
	"github.com/weupload/weupload/internal/config"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
)

// The admin subcommands (see usage in main.go): each opens what it needs
// from the configuration, does one thing and reports it on stdout.

// migrateCommand runs "migrate up|down|status".
func migrateCommand(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: weupload migrate up|down|status")
	}
	pool, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	return database.Migrate(ctx, pool, args[0], func(s string) { fmt.Fprintln(stdout, s) })
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

// storageCommand runs "storage init": it creates the S3 bucket and its CORS
// rule for BASE_URL (development and docker compose; Terraform does it in
// production). With the disk store it creates the directory.
func storageCommand(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "init" {
		return errors.New("usage: weupload storage init")
	}
	if cfg.Storage.Backend != "s3" {
		st, err := newBlobStore(cfg, logger)
		if err != nil {
			return err
		}
		st.close()
		fmt.Fprintf(stdout, "disk store ready in %s\n", cfg.Storage.Dir)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := s3.New(ctx, s3Config(cfg.Storage))
	if err != nil {
		return err
	}
	origin := cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host
	if err := st.EnsureBucket(ctx, []string{origin}); err != nil {
		return fmt.Errorf("storage init: %w", err)
	}
	fmt.Fprintf(stdout, "bucket %s ready (CORS for %s)\n", cfg.Storage.S3Bucket, origin)
	return nil
}

// asFieldErrors formats an Invalid error's fields for the command line.
func asFieldErrors(err error) string {
	e := apperr.As(err)
	if e == nil || e.Code != apperr.Invalid {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(e.Fields) {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return strings.Join(parts, "; ")
}
