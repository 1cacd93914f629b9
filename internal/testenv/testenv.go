// Package testenv holds what every integration test shares: how to react when
// a required service is missing, and how to start a helper process that dies
// with the test binary.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Missing stops a test whose service is unavailable: it fails loudly when
// CI=true (CI must never skip) and skips otherwise, saying how to get it.
func Missing(tb testing.TB, what, hint string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required in CI but unavailable: %s", what, hint)
	}
	tb.Skipf("%s unavailable (%s); set CI=true to make this a failure", what, hint)
}

// LookPath finds a tool on PATH or in the project's tool cache
// ($WEUPLOAD_TOOLS_DIR/bin, default $HOME/.cache/weupload/bin).
func LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dir := os.Getenv("WEUPLOAD_TOOLS_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "weupload")
	}
	p := filepath.Join(dir, "bin", name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p, nil
	}
	return "", fmt.Errorf("%s not found on PATH or in %s", name, filepath.Join(dir, "bin"))
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartDaemon starts cmd so that the kernel kills it when the test binary
// exits (there is no TestMain to stop it), then waits until addr accepts
// connections.
func StartDaemon(cmd *exec.Cmd, addr string, wait time.Duration) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return fmt.Errorf("%s did not listen on %s within %s", filepath.Base(cmd.Path), addr, wait)
}

// Eventually polls cond every 10 ms until it holds, failing the test with
// what when it still does not after timeout. Tests wait on conditions, not
// fixed sleeps, so they are as fast as the machine allows and do not fail
// on a loaded one.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
