package kafkatest

import "syscall"

// dieWithParent makes the kernel SIGKILL the child when the test binary
// dies, so that a crashed test leaves no member behind.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
