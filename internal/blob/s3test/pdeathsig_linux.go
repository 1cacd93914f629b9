package s3test

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill cmd when the thread that starts it
// exits (see spawn).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
