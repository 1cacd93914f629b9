// Package clamdtest gives tests a real ClamAV daemon: clamd from Debian's
// clamav-daemon package, started per test on a free 127.0.0.1 port with a
// private signature database this package writes (no freshclam, no
// network). The database detects the EICAR test string and Custom, a
// marker of our own. Without clamd the test is skipped, or fails when
// CI=true.
package clamdtest

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/testenv"
)

// InstallCommand installs clamd the way CI does.
const InstallCommand = "scripts/tools.sh clamd (or: apt-get install -y clamav-daemon)"

// EICAR is the standard antivirus test file (68 bytes).
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// Signatures clamd reports for the test files. ClamAV appends
// ".UNOFFICIAL" to signatures of databases it did not sign.
const (
	EICARSignature  = "Eicar-Test-Signature.UNOFFICIAL"
	CustomSignature = "WeUpload.Test.Custom.UNOFFICIAL"
)

// Custom is a marker the test database flags anywhere in a file, so tests
// can make "infected" content of any size.
const Custom = "weupload-test-malware-marker"

// StreamMaxLength is the test daemon's scanning limit: a larger stream is
// refused unscanned.
const StreamMaxLength = 1 << 20

// Server is one running clamd.
type Server struct {
	// Addr is its "127.0.0.1:port".
	Addr string
	tb   testing.TB
	conf string
	bin  string
	cmd  *exec.Cmd
}

// Start starts a clamd for the test (about 0.1 s with the tiny database);
// it is stopped when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := testenv.LookPath("clamd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/clamd"); serr != nil {
			testenv.Missing(tb, "clamd", InstallCommand)
		}
		bin = "/usr/sbin/clamd"
	}
	dir := tb.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		tb.Fatal(err)
	}
	// An MD5 signature of the EICAR string (MD5:size:name) and a body
	// signature of Custom at any offset of any file (name:type:offset:hex).
	write(tb, filepath.Join(db, "test.hdb"), "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n")
	write(tb, filepath.Join(db, "test.ndb"), "WeUpload.Test.Custom:0:*:"+hex.EncodeToString([]byte(Custom))+"\n")
	port, err := testenv.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), tb: tb, conf: filepath.Join(dir, "clamd.conf")}
	write(tb, s.conf, fmt.Sprintf(`Foreground yes
TCPSocket %d
TCPAddr 127.0.0.1
DatabaseDirectory %s
TemporaryDirectory %s
StreamMaxLength %d
LogFile %s
`, port, db, dir, StreamMaxLength, filepath.Join(dir, "clamd.log")))
	s.bin = bin
	s.Restart()
	tb.Cleanup(s.Stop)
	return s
}

func write(tb testing.TB, name, content string) {
	tb.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Stop kills the daemon (as a crash or an outage would) and waits for it
// to exit; Restart brings it back on the same address.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the daemon again (after Stop) on the same address and
// waits until it listens.
func (s *Server) Restart() {
	s.tb.Helper()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "--config-file="+s.conf)
	start := time.Now()
	if err := testenv.StartDaemon(cmd, s.Addr, 30*time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(s.conf), "clamd.log"))
		s.tb.Fatalf("clamdtest: %v\n%s", err, log)
	}
	s.cmd = cmd
	s.tb.Logf("clamdtest: clamd listening on %s after %s", s.Addr, time.Since(start).Round(time.Millisecond))
}
