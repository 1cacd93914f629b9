//go:build !linux

package s3test

import "os/exec"

// dieWithParent does nothing outside Linux, which has no Pdeathsig: there
// the server outlives the test binary and must be stopped by hand.
func dieWithParent(cmd *exec.Cmd) {}
