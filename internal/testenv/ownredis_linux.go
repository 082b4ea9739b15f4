package testenv

import "syscall"

// dieWithParent makes the kernel SIGKILL a child the test binary started
// when the binary dies, so that a crashed test leaves no server behind.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
