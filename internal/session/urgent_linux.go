package session

import (
	"syscall"
	"unsafe"
)

// urgentPending reports whether TCP urgent data is pending on the socket fd
// beyond what has been read (POLLPRI: Linux sets it when the urgent byte
// arrives and clears it once a read has passed it). Linux ends a read at
// the urgent mark, so right after a read, pending means that what was read
// lies before the mark: the data a telnet Synch discards (see
// telnet.Decoder.Urgent). It costs one ppoll(2) that does not wait.
func urgentPending(fd uintptr) bool {
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{fd: int32(fd), events: 0x2} // POLLPRI
	var ts syscall.Timespec // zero: do not wait
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return errno == 0 && n == 1 && pfd.revents&0x2 != 0
}
