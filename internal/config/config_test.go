package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://u@localhost/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:8080" || c.Registration != "closed" || c.Storage.Backend != "disk" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.SessionSecure {
		t.Fatal("an http base URL must default to non-Secure cookies")
	}
	if c.Storage.MaxFileSize != 5<<30 || c.Storage.DownloadURLTTL != 5*time.Minute || c.Storage.LimitedDownloadURLTTL != time.Minute ||
		c.Storage.UploadExpiry != 24*time.Hour || c.Storage.TrashRetention != 30*24*time.Hour {
		t.Fatalf("storage defaults: %+v", c.Storage)
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"DATABASE_URL":     "postgres://u@localhost/db",
		"BASE_URL":         "https://files.example.com/",
		"TRUSTED_PROXIES":  "10.0.0.0/16, 192.0.2.1",
		"MAX_FILE_SIZE":    "50GiB",
		"REGISTRATION":     "OPEN",
		"UPLOAD_EXPIRY":    "6h",
		"TRASH_RETENTION":  "168h",
		"BLOB_SIGNING_KEY": "0123456789abcdef0123456789abcdef",
		"LINK_KEY":         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SessionSecure || c.BaseURL.String() != "https://files.example.com" || !c.RegistrationOpen() {
		t.Fatalf("got %+v", c)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.0.2.1/32" {
		t.Fatalf("trusted proxies %v", c.TrustedProxies)
	}
	if c.Storage.MaxFileSize != 50<<30 {
		t.Fatalf("max file size %d", c.Storage.MaxFileSize)
	}
	if c.Storage.UploadExpiry != 6*time.Hour || c.Storage.TrashRetention != 7*24*time.Hour {
		t.Fatalf("upload expiry %s, trash retention %s", c.Storage.UploadExpiry, c.Storage.TrashRetention)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"missing database", map[string]string{}, []string{"DATABASE_URL is required"}},
		{"every bad value reported", map[string]string{
			"DATABASE_URL":     "postgres://u@localhost/db",
			"LISTEN_ADDR":      "nope",
			"BASE_URL":         "ftp://x",
			"SESSION_SECURE":   "maybe",
			"REGISTRATION":     "sometimes",
			"TRUSTED_PROXIES":  "10.0.0.0/33",
			"MAX_FILE_SIZE":    "5 parsecs",
			"UPLOAD_PART_SIZE": "1MiB",
			"UPLOAD_URL_TTL":   "-5m",
			"TRASH_RETENTION":  "a month",
			"STORAGE_BACKEND":  "s3",
		}, []string{"LISTEN_ADDR", "BASE_URL", "SESSION_SECURE", "REGISTRATION", "TRUSTED_PROXIES", "MAX_FILE_SIZE", "UPLOAD_PART_SIZE", "UPLOAD_URL_TTL", "TRASH_RETENTION", "S3_BUCKET is required"}},
		{"limited download URL TTL over the download URL TTL", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "LIMITED_DOWNLOAD_URL_TTL": "10m"}, []string{"LIMITED_DOWNLOAD_URL_TTL must not exceed DOWNLOAD_URL_TTL"}},
		{"limited download URL TTL", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "LIMITED_DOWNLOAD_URL_TTL": "0s"}, []string{"LIMITED_DOWNLOAD_URL_TTL is \"0s\""}},
		{"upload expiry", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "UPLOAD_EXPIRY": "0s"}, []string{"UPLOAD_EXPIRY is \"0s\""}},
		{"upload expiry under the URL TTL", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "UPLOAD_EXPIRY": "10m"}, []string{"UPLOAD_EXPIRY must be at least UPLOAD_URL_TTL"}},
		{"short signing key", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "BLOB_SIGNING_KEY": "short"}, []string{"BLOB_SIGNING_KEY"}},
		{"disk store on a public URL needs a signing key", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "BASE_URL": "https://files.example.com"}, []string{"BLOB_SIGNING_KEY is required with STORAGE_BACKEND=disk"}},
		{"public URL needs a link key", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "BASE_URL": "https://files.example.com", "STORAGE_BACKEND": "s3", "S3_BUCKET": "b"}, []string{"LINK_KEY is required"}},
		{"short link key", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "LINK_KEY": "00112233"}, []string{"LINK_KEY must be 32 bytes"}},
		{"bad previous link key", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "LINK_KEY_PREVIOUS": "not a key"}, []string{"LINK_KEY_PREVIOUS must be 32 bytes"}},
		{"idle over lifetime", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "SESSION_IDLE_TIMEOUT": "48h", "SESSION_LIFETIME": "24h"}, []string{"SESSION_IDLE_TIMEOUT must not exceed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestSigningKeyOptionalOnlyForDevRuns checks which runs may go without
// BLOB_SIGNING_KEY: a disk store on a loopback BASE_URL (make dev, tests),
// or the S3 store; a disk store anyone else can reach needs one.
func TestSigningKeyOptionalOnlyForDevRuns(t *testing.T) {
	tests := []struct {
		baseURL, backend string
		ok               bool
	}{
		{"http://localhost:8080", "disk", true},
		{"http://127.0.0.1", "disk", true},
		{"http://[::1]:8080", "disk", true},
		{"https://files.example.com", "s3", true},
		{"https://files.example.com", "disk", false},
		{"http://192.168.1.10:8080", "disk", false},
		{"http://localhost.example.com", "disk", false},
	}
	for _, tt := range tests {
		t.Run(tt.backend+" "+tt.baseURL, func(t *testing.T) {
			_, err := Load(env(map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "BASE_URL": tt.baseURL, "STORAGE_BACKEND": tt.backend, "S3_BUCKET": "b",
				"LINK_KEY": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}))
			if (err == nil) != tt.ok {
				t.Fatalf("Load: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestLinkKey checks LINK_KEY's forms (hex, base64), that only a dev run
// may go without one (then with a key derived from DATABASE_URL, stable
// across restarts and marked as such), and the optional previous key.
func TestLinkKey(t *testing.T) {
	const hexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	const b64Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	for _, v := range []string{hexKey, b64Key, strings.TrimRight(b64Key, "=")} {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "BASE_URL": "https://files.example.com",
			"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "LINK_KEY": v, "LINK_KEY_PREVIOUS": hexKey}))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if len(c.LinkKey) != 32 || c.LinkKey[31] != 0x1f || c.LinkKeyDev || len(c.LinkKeyPrevious) != 32 {
			t.Fatalf("%s: key %x dev %v previous %x", v, c.LinkKey, c.LinkKeyDev, c.LinkKeyPrevious)
		}
	}
	dev := func(db string) Config {
		c, err := Load(env(map[string]string{"DATABASE_URL": db}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := dev("postgres://u@localhost/db"), dev("postgres://u@localhost/db")
	if !a.LinkKeyDev || len(a.LinkKey) != 32 || string(a.LinkKey) != string(b.LinkKey) || a.LinkKeyPrevious != nil {
		t.Fatalf("dev key %x %x dev %v", a.LinkKey, b.LinkKey, a.LinkKeyDev)
	}
	if other := dev("postgres://u@localhost/other"); string(other.LinkKey) == string(a.LinkKey) {
		t.Fatal("two dev databases share a key")
	}
}

// TestScanMode: scanning is off without clamd, required by default with
// it, and a mode that needs clamd without its address is refused.
func TestScanMode(t *testing.T) {
	db := "postgres://u@localhost/db"
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"no clamd", map[string]string{}, "off", ""},
		{"clamd", map[string]string{"CLAMD_ADDR": "clamd:3310"}, "required", ""},
		{"clamd async", map[string]string{"CLAMD_ADDR": "clamd:3310", "SCAN_MODE": "async"}, "async", ""},
		{"clamd off", map[string]string{"CLAMD_ADDR": "clamd:3310", "SCAN_MODE": "off"}, "off", ""},
		{"required without clamd", map[string]string{"SCAN_MODE": "required"}, "", "SCAN_MODE needs CLAMD_ADDR"},
		{"unknown", map[string]string{"CLAMD_ADDR": "clamd:3310", "SCAN_MODE": "sometimes"}, "", "SCAN_MODE is \"sometimes\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["DATABASE_URL"] = db
			c, err := Load(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.Scan.Mode != tt.want {
				t.Fatalf("mode = %q, %v; want %q", c.Scan.Mode, err, tt.want)
			}
		})
	}
}
