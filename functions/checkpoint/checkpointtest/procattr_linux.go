package checkpointtest

import "syscall"

// sysProcAttr makes the kernel kill dynalite when the test binary dies, even
// without running its cleanups (a timeout panic, a kill -9).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
