// Package netns runs a test, or one case of it, in a network namespace
// that has only loopback, for the tests that must name an address that is
// not loopback (a link-local or unspecified target, to show it is denied;
// a listener on every interface): there, a bug that sent the packet
// would find no route, and nothing leaves the machine.
package netns

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// envKey names the test a child process was started to run in the
// namespace.
const envKey = "WSTELNET_NETNS_TEST"

// In a child process, lo comes up before any test starts, and the
// runtime's poller is made (a pipe registers with it): the tests' leak
// checks count descriptors from their start, and the poller's are the
// process's, not a test's.
func init() {
	if os.Getenv(envKey) == "" {
		return
	}
	upErr = loopbackUp()
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
}

// upErr is why lo could not be set up in the child, if it could not.
var upErr error

// LoopbackOnly runs the calling test again in a new network namespace
// with only loopback, up, and reports whether it did: the caller returns
// at once when it is true. In that child process it returns false and the
// test goes on, after checking that loopback is the only interface. Where
// no namespace can be made (not Linux, not root, no unshare), the test is
// skipped with the reason (failed when CI is set, as tests that miss a
// program are).
func LoopbackOnly(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envKey) == t.Name() {
		if upErr != nil {
			t.Fatalf("in the new network namespace: %v", upErr)
		}
		onlyLoopback(t)
		return false
	}
	unshare, err := probe()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set, and this case needs a network namespace with only loopback: %v", err)
		}
		t.Skipf("this case names an address that is not loopback, and runs only in a network namespace with only loopback: %v", err)
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := exec.Command(unshare, append(unshareArgs(), "--", os.Args[0], "-test.run", strings.Join(parts, "/"), "-test.count=1", "-test.v")...)
	cmd.Env = append(os.Environ(), envKey+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in a loopback-only network namespace: %v\n%s", t.Name(), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		t.Fatalf("%s did not run in the namespace:\n%s", t.Name(), out)
	}
	t.Logf("ran in a network namespace with only loopback")
	return true
}

// unshareArgs are unshare(1)'s options for a new network namespace: as
// an unprivileged user, in a user namespace of its own, in which it may
// make the network namespace and set lo up.
func unshareArgs() []string {
	if os.Geteuid() != 0 {
		return []string{"--net", "--user", "--map-root-user"}
	}
	return []string{"--net"}
}

// probe finds unshare(1) and makes a namespace once, as the tests would,
// to say why they cannot run there, if they cannot.
var probe = sync.OnceValues(func() (string, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return "", err
	}
	if err := canUnshare(); err != nil {
		return "", err
	}
	args := unshareArgs()
	if out, err := exec.Command(unshare, append(args, "--", "true")...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("unshare %s true: %v: %s (run the tests as root, or allow unprivileged user namespaces)", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return unshare, nil
})

// onlyLoopback fails the test unless every interface is loopback.
func onlyLoopback(t *testing.T) {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatalf("listing interfaces: %v", err)
	}
	for _, i := range ifs {
		if i.Name != "lo" {
			t.Fatalf("the namespace has interface %q: only lo may be there", i.Name)
		}
	}
}
