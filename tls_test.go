package main

import (
	"crypto/sha256"
	"crypto/tls"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// Tests of HTTPS and WSS with -tls-self-signed.

func TestTLSSelfSigned(t *testing.T) {
	url, out, stop := startRun(t, []string{"-listen", "127.0.0.1:0", "-tls-self-signed", "-echo", "127.0.0.1:0"}, testWriter{t})
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	fp := regexp.MustCompile(`fingerprint ([0-9A-F:]{95})`).FindStringSubmatch(strings.Join(out, "\n"))
	if fp == nil {
		t.Fatalf("no fingerprint printed: %q", out)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/")

	// TLS 1.1 is refused.
	if c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	// The certificate is the one whose fingerprint was printed, and HTTP/2 is not offered.
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	st := c.ConnectionState()
	c.Close()
	sum := sha256.Sum256(st.PeerCertificates[0].Raw)
	if got := strings.ToUpper(strings.Join(hexPairs(sum[:]), ":")); got != fp[1] {
		t.Errorf("certificate fingerprint %s, printed %s", got, fp[1])
	}
	if st.NegotiatedProtocol == "h2" {
		t.Error("HTTP/2 negotiated: WebSockets need HTTP/1.1")
	}

	// A session over WSS from the gateway's own https origin.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	m := regexp.MustCompile(`id="port"[^>]*value="(\d+)"|value="(\d+)"[^>]*id="port"`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatal("no echo port on the page")
	}
	echoPort := m[1] + m[2]
	ws, resp := dialWSAt(t, addr, &tls.Config{InsecureSkipVerify: true}, "/ws", http.Header{"Origin": {strings.TrimSuffix(url, "/")}})
	if ws == nil {
		t.Fatalf("WSS refused: %s", resp.Status)
	}
	ws.sendText("127.0.0.1:" + echoPort)
	ws.expectText("SUCC")
	ws.sendClose()
	ws.readUntilClose()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
