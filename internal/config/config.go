// Package config reads the service's configuration from the environment
// (12-factor) and validates all of it at start-up, so a bad value stops the
// process with one clear line instead of failing later under traffic.
package config

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/bytesize"
)

// Config is the validated configuration. Every field maps to one environment
// variable, documented in the README.
type Config struct {
	DatabaseURL        string
	DBMaxConns         int32
	DBStatementTimeout time.Duration
	DBConnectWait      time.Duration

	ListenAddr      string
	MetricsAddr     string // empty: no metrics listener
	BaseURL         *url.URL
	TrustedProxies  []netip.Prefix
	LogLevel        string // debug | info | warn | error
	ShutdownTimeout time.Duration

	SessionSecure      bool
	SessionIdleTimeout time.Duration
	SessionLifetime    time.Duration
	Registration       string // open | closed
	// PasswordHashers is how many argon2 hashes (19 MiB each) may run at
	// once; 0 means two per core.
	PasswordHashers int
	// LinkKey seals the stored tokens of share and upload links (32 bytes);
	// LinkKeyPrevious (optional) still opens those sealed before a rotation.
	// LinkKeyDev says LinkKey was derived because a dev run set none.
	LinkKey, LinkKeyPrevious []byte
	LinkKeyDev               bool

	// RunJobs says whether serve also works background jobs (false where
	// separate `weupload worker` processes do); JobWorkers is how many jobs
	// one process runs at once, JobTimeout bounds each run.
	RunJobs    bool
	JobWorkers int
	JobTimeout time.Duration

	Storage Storage
	Scan    Scan
}

// Scan configures virus scanning with ClamAV's clamd (internal/scan).
type Scan struct {
	// Mode is off | async (scan, serve anyway) | required (serve only
	// clean files); default required when ClamdAddr is set, else off.
	Mode string
	// ClamdAddr is clamd's "host:port" or "unix:/path".
	ClamdAddr string
	// ClamdTimeout bounds each step of a scan (dial, each chunk, verdict).
	ClamdTimeout time.Duration
	// AllowSkipped serves files too large for clamd's StreamMaxLength
	// under required (they are refused by default).
	AllowSkipped bool
}

// Storage configures the blob store and the upload limits.
type Storage struct {
	Backend    string // disk | s3
	Dir        string // disk backend
	SigningKey string // disk backend: HMAC key for /blob/ URLs; random per process when empty (dev runs only)

	S3Bucket         string
	S3Region         string
	S3Endpoint       string
	S3PathStyle      bool
	S3PublicEndpoint string

	MaxFileSize        int64
	DefaultQuota       int64
	MultipartThreshold int64
	PartSize           int64
	UploadURLTTL       time.Duration
	DownloadURLTTL     time.Duration
	// LimitedDownloadURLTTL is the lifetime of a download URL handed out
	// by a link with a download limit: the limit counts URLs, and each may
	// be fetched again until it expires. At most DownloadURLTTL.
	LimitedDownloadURLTTL time.Duration
	// UploadExpiry is how long a pending upload may take before the
	// sweeper ends it and releases its reservation.
	UploadExpiry time.Duration
	// TrashRetention is how long trashed items stay restorable before the
	// sweeper deletes them for good.
	TrashRetention time.Duration
}

// S3MinPartSize is S3's minimum size for every part but the last.
const S3MinPartSize = 5 << 20

// RegistrationOpen reports whether anyone may create an account.
func (c Config) RegistrationOpen() bool { return c.Registration == "open" }

// IsLoopback reports whether u's host is localhost or a loopback address:
// only this machine can use such a BASE_URL, so it marks a dev run.
func IsLoopback(u *url.URL) bool {
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// Load reads the configuration through getenv and reports every bad value at once.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	var c Config

	c.DatabaseURL = p.str("DATABASE_URL", "")
	if c.DatabaseURL == "" {
		p.fail("DATABASE_URL", "is required (e.g. postgres://user:pass@localhost:5432/weupload)")
	} else if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
		// pgx's message can echo the URL; keep the password out of the log line.
		p.fail("DATABASE_URL", "is not a valid PostgreSQL connection string")
	}
	c.DBMaxConns = int32(p.integer("DB_MAX_CONNS", 20, 1, 1000))
	c.DBStatementTimeout = p.duration("DB_STATEMENT_TIMEOUT", 10*time.Second)
	c.DBConnectWait = p.duration("DB_CONNECT_WAIT", 10*time.Second)

	c.ListenAddr = p.addr("LISTEN_ADDR", "127.0.0.1:8080")
	c.MetricsAddr = p.addr("METRICS_ADDR", "")
	c.BaseURL = p.baseURL("BASE_URL", "http://localhost:8080")
	c.TrustedProxies = p.prefixes("TRUSTED_PROXIES")
	c.LogLevel = p.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error")
	c.ShutdownTimeout = p.duration("SHUTDOWN_TIMEOUT", 25*time.Second)

	secureDefault := c.BaseURL == nil || c.BaseURL.Scheme != "http"
	c.SessionSecure = p.boolean("SESSION_SECURE", secureDefault)
	c.SessionIdleTimeout = p.duration("SESSION_IDLE_TIMEOUT", 24*time.Hour)
	c.SessionLifetime = p.duration("SESSION_LIFETIME", 30*24*time.Hour)
	if c.SessionIdleTimeout > c.SessionLifetime {
		p.fail("SESSION_IDLE_TIMEOUT", "must not exceed SESSION_LIFETIME")
	}
	c.Registration = p.oneOf("REGISTRATION", "closed", "open", "closed")
	c.PasswordHashers = p.integer("PASSWORD_HASH_CONCURRENCY", 0, 0, 1024)
	c.RunJobs = p.boolean("RUN_JOBS", true)
	c.JobWorkers = p.integer("JOB_WORKERS", 10, 1, 1000)
	c.JobTimeout = p.duration("JOB_TIMEOUT", 10*time.Minute)
	c.LinkKey = p.key("LINK_KEY")
	c.LinkKeyPrevious = p.key("LINK_KEY_PREVIOUS")
	if c.LinkKey == nil && c.BaseURL != nil {
		if !IsLoopback(c.BaseURL) {
			p.fail("LINK_KEY", "is required unless BASE_URL is a loopback address (a dev run); set it to 32 random bytes in hex, the same on every instance, e.g. openssl rand -hex 32")
		} else {
			// A dev run: a key derived from the database URL, so links stay
			// readable across restarts of the same dev database. Not secret.
			k := sha256.Sum256([]byte("weupload dev-only link key\x00" + c.DatabaseURL))
			c.LinkKey, c.LinkKeyDev = k[:], true
		}
	}

	s := &c.Storage
	s.Backend = p.oneOf("STORAGE_BACKEND", "disk", "disk", "s3")
	s.Dir = p.str("STORAGE_DIR", ".data/blobs")
	s.SigningKey = p.str("BLOB_SIGNING_KEY", "")
	if s.SigningKey != "" && len(s.SigningKey) < 32 {
		p.fail("BLOB_SIGNING_KEY", "must be at least 32 characters")
	}
	// Without a key each process signs with its own random one: URLs die on
	// restart and instances reject each other's. Only a dev run, recognised
	// by a loopback BASE_URL that no other machine can use, may go without.
	if s.Backend == "disk" && s.SigningKey == "" && c.BaseURL != nil && !IsLoopback(c.BaseURL) {
		p.fail("BLOB_SIGNING_KEY", "is required with STORAGE_BACKEND=disk unless BASE_URL is a loopback address (a dev run); set it to a random secret of 32+ characters shared by every instance, e.g. openssl rand -hex 32")
	}
	s.S3Bucket = p.str("S3_BUCKET", "")
	s.S3Region = p.str("S3_REGION", "us-east-1")
	s.S3Endpoint = p.endpoint("S3_ENDPOINT")
	s.S3PathStyle = p.boolean("S3_PATH_STYLE", false)
	s.S3PublicEndpoint = p.endpoint("S3_PUBLIC_ENDPOINT")
	if s.Backend == "s3" && s.S3Bucket == "" {
		p.fail("S3_BUCKET", "is required when STORAGE_BACKEND=s3")
	}
	s.MaxFileSize = p.size("MAX_FILE_SIZE", 5<<30)
	s.DefaultQuota = p.size("DEFAULT_QUOTA", 10<<30)
	s.MultipartThreshold = p.size("UPLOAD_MULTIPART_THRESHOLD", 64<<20)
	s.PartSize = p.size("UPLOAD_PART_SIZE", 16<<20)
	if s.PartSize != 0 && s.PartSize < S3MinPartSize {
		p.fail("UPLOAD_PART_SIZE", "must be at least 5MiB (S3's minimum part size)")
	}
	if s.MultipartThreshold != 0 && s.MultipartThreshold < s.PartSize {
		p.fail("UPLOAD_MULTIPART_THRESHOLD", "must be at least UPLOAD_PART_SIZE")
	}
	s.UploadURLTTL = p.duration("UPLOAD_URL_TTL", 15*time.Minute)
	s.DownloadURLTTL = p.duration("DOWNLOAD_URL_TTL", 5*time.Minute)
	s.LimitedDownloadURLTTL = p.duration("LIMITED_DOWNLOAD_URL_TTL", min(time.Minute, s.DownloadURLTTL))
	if s.LimitedDownloadURLTTL > s.DownloadURLTTL {
		p.fail("LIMITED_DOWNLOAD_URL_TTL", "must not exceed DOWNLOAD_URL_TTL")
	}
	s.UploadExpiry = p.duration("UPLOAD_EXPIRY", 24*time.Hour)
	if s.UploadExpiry < s.UploadURLTTL {
		// A URL valid after its upload ended would PUT bytes no row owns.
		p.fail("UPLOAD_EXPIRY", "must be at least UPLOAD_URL_TTL")
	}
	s.TrashRetention = p.duration("TRASH_RETENTION", 30*24*time.Hour)

	sc := &c.Scan
	sc.ClamdAddr = p.str("CLAMD_ADDR", "")
	mode := "off"
	if sc.ClamdAddr != "" {
		mode = "required"
	}
	sc.Mode = p.oneOf("SCAN_MODE", mode, "off", "async", "required")
	if sc.Mode != "off" && sc.ClamdAddr == "" {
		p.fail("SCAN_MODE", "needs CLAMD_ADDR (clamd's host:port or unix:/path)")
	}
	sc.ClamdTimeout = p.duration("CLAMD_TIMEOUT", 2*time.Minute)
	sc.AllowSkipped = p.boolean("SCAN_ALLOW_SKIPPED", false)

	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.Join(p.errs...))
	}
	return c, nil
}

// parser reads variables and collects one error per bad value.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, msg string) {
	p.errs = append(p.errs, fmt.Errorf("%s %s", name, msg))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

// key reads a 32-byte key in hex or base64; nil when unset.
func (p *parser) key(name string) []byte {
	v := p.str(name, "")
	if v == "" {
		return nil
	}
	if b, err := hex.DecodeString(v); err == nil && len(b) == 32 {
		return b
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == 32 {
			return b
		}
	}
	p.fail(name, "must be 32 bytes in hex (64 characters) or base64, e.g. openssl rand -hex 32")
	return nil
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, fmt.Sprintf("is %q; want one of %s", v, strings.Join(allowed, ", ")))
	return def
}

func (p *parser) boolean(name string, def bool) bool {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, fmt.Sprintf("is %q; want true or false", v))
		return def
	}
	return b
}

func (p *parser) integer(name string, def, min, max int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		p.fail(name, fmt.Sprintf("is %q; want a whole number from %d to %d", v, min, max))
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, fmt.Sprintf("is %q; want a positive duration such as 30s, 15m or 24h", v))
		return def
	}
	return d
}

func (p *parser) size(name string, def int64) int64 {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := bytesize.Parse(v)
	if err != nil {
		p.fail(name, fmt.Sprintf("is %q; %v", v, err))
		return def
	}
	return n
}

func (p *parser) addr(name, def string) string {
	v := p.str(name, def)
	if v == "" {
		return ""
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		p.fail(name, fmt.Sprintf("is %q; want host:port such as 127.0.0.1:8080", v))
		return def
	}
	return v
}

func (p *parser) baseURL(name, def string) *url.URL {
	v := strings.TrimRight(p.str(name, def), "/")
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		p.fail(name, fmt.Sprintf("is %q; want an absolute http(s) URL such as https://files.example.com", v))
		return nil
	}
	return u
}

func (p *parser) endpoint(name string) string {
	v := strings.TrimRight(p.str(name, ""), "/")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(name, fmt.Sprintf("is %q; want an http(s) URL such as http://localhost:7070", v))
		return ""
	}
	return v
}

func (p *parser) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Split(p.str(name, ""), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			if a, err := netip.ParseAddr(f); err == nil {
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
		}
		pre, err := netip.ParsePrefix(f)
		if err != nil {
			p.fail(name, fmt.Sprintf("has %q; want comma-separated CIDRs such as 10.0.0.0/16", f))
			continue
		}
		out = append(out, pre.Masked())
	}
	return out
}
