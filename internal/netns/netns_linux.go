package netns

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unsafe"
)

// canUnshare says why a loopback-only namespace cannot be made, if it
// cannot: it tries one, as the test would (root, or an unprivileged user
// namespace where the kernel allows them).
func canUnshare(unshare string) error {
	args := []string{"--net"}
	if os.Geteuid() != 0 {
		args = append(args, "--user", "--map-root-user")
	}
	if out, err := exec.Command(unshare, append(args, "--", "true")...).CombinedOutput(); err != nil {
		return fmt.Errorf("unshare %s true: %v: %s (run the tests as root, or allow unprivileged user namespaces)", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// loopbackUp sets lo up (a new namespace starts with it down), as
// "ip link set lo up" does, without needing ip(8).
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer syscall.Close(fd)
	var ifr struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(ifr.name[:], "lo")
	ifr.flags = syscall.IFF_UP | syscall.IFF_LOOPBACK | syscall.IFF_RUNNING
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return fmt.Errorf("setting lo up: %w", e)
	}
	return nil
}

func interfaces() ([]string, error) {
	ifs, err := net.Interfaces()
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	return names, err
}
