//go:build unix

package main

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// writeCert writes a new self-signed certificate and its key as PEM files
// and returns the certificate's SHA-256.
func writeCert(t *testing.T, certFile, keyFile string) [32]byte {
	t.Helper()
	cert, err := selfSignedCert("")
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})))
	return sha256.Sum256(cert.Certificate[0])
}

// servedCert is the SHA-256 of the certificate addr serves.
func servedCert(t *testing.T, addr string) [32]byte {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
}

// TestSIGHUPReloads runs the real binary without -targets and sends it
// SIGHUP: it goes on (it used to die with exit 129), serves the renewed
// certificate, ends the sessions of a user removed from -htpasswd, keeps
// the last good -htpasswd when the file is broken, and exits 0 on SIGTERM.
func TestSIGHUPReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildWstelnet(t)
	echo := startTestEcho(t)
	dir := t.TempDir()
	certFile, keyFile, pwFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "htpasswd")
	first := writeCert(t, certFile, keyFile)
	alice, _ := bcrypt.GenerateFromPassword([]byte("wonderland"), 4)
	writeFile(t, pwFile, bobLine+"\nalice:"+string(alice)+"\n")

	var logs lockedBuffer
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile, "-htpasswd", pwFile)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.MultiWriter(&logs, testWriter{t})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var url string
	for url == "" && sc.Scan() {
		url = regexp.MustCompile(`https://\S+/`).FindString(sc.Text())
	}
	if url == "" {
		t.Fatal("no URL printed")
	}
	go io.Copy(io.Discard, stdout)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/")
	if servedCert(t, addr) != first {
		t.Fatal("the served certificate is not -tls-cert's")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	get := func(user, pass string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.SetBasicAuth(user, pass)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	hdr := http.Header{"Authorization": {basicAuth("alice", "wonderland")}}
	ws, resp := dialWSAt(t, addr, &tls.Config{InsecureSkipVerify: true}, "/ws", hdr)
	if ws == nil {
		t.Fatalf("alice's WebSocket: %s", resp.Status)
	}
	ws.sendText(echo.Addr())
	ws.expectText("SUCC")
	ws.expectText(strings.TrimSuffix(echoGreeting, "\r\n"))

	hup := func(what string) {
		t.Helper()
		n := strings.Count(logs.String(), "SIGHUP: reloading")
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if !pollUntil(10*time.Second, func() bool {
			return strings.Count(logs.String(), "SIGHUP: reloading") > n && strings.Contains(logs.String(), what)
		}) {
			t.Fatalf("no %q after SIGHUP; log:\n%s", what, logs.String())
		}
	}
	second := writeCert(t, certFile, keyFile)
	writeFile(t, pwFile, bobLine+"\n")
	// The poll may see the file first; either way alice's session ends.
	hup("TLS certificate loaded")
	if reason := ws.expectClose(1000); !strings.Contains(reason, "removed") {
		t.Errorf("alice's session closed with %q, want it to say she was removed", reason)
	}
	if servedCert(t, addr) != second {
		t.Error("the renewed certificate is not served after SIGHUP")
	}
	if code := get("alice", "wonderland"); code != 401 {
		t.Errorf("alice after her removal: %d, want 401", code)
	}
	writeFile(t, pwFile, "this is not an htpasswd file\n")
	os.WriteFile(certFile, []byte("broken"), 0o600)
	hup("keeping the last good users")
	if code := get("bob", "correct horse"); code != 200 {
		t.Errorf("bob after a broken -htpasswd: %d, want 200 (the last good file)", code)
	}
	if servedCert(t, addr) != second {
		t.Error("a broken certificate file replaced the last good certificate")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGHUPs and SIGTERM: %v; log:\n%s", err, logs.String())
	}
}
