//go:build !linux

package kafkatest

import "syscall"

// dieWithParent: only Linux has a parent-death signal.
func dieWithParent() *syscall.SysProcAttr { return nil }
