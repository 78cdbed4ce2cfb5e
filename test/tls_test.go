package test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/b2bridge/b2bridge/erp/embedded/embeddedtest"
)

// writeCertificate writes a self-signed certificate for 127.0.0.1 with this serial
// number, and its key, as PEM files.
func writeCertificate(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "b2bridge test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Written aside and renamed, as a certificate manager does: a reload never reads half a file.
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file+".new", pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".new", file); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// The bridge serves HTTPS from a configured certificate and key; SIGHUP makes new
// connections get a renewed certificate without a restart, and a broken pair on
// SIGHUP leaves the one being served.
func TestTLSWithReloadOnSIGHUP(t *testing.T) {
	dir := embeddedtest.Dir(t)
	pki := t.TempDir()
	certFile, keyFile := filepath.Join(pki, "cert.pem"), filepath.Join(pki, "key.pem")
	first := writeCertificate(t, certFile, keyFile, 1)
	srv := startServer(t, dir, "B2BRIDGE_TLS_CERT_FILE="+certFile, "B2BRIDGE_TLS_KEY_FILE="+keyFile)
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("serving on %s, want https", srv.URL)
	}
	// served returns the serial number of the certificate a new connection gets, having
	// checked it against trusted, and the status of /healthz over it.
	served := func(trusted *x509.Certificate) int64 {
		t.Helper()
		roots := x509.NewCertPool()
		roots.AddCert(trusted)
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz over TLS: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("GET /healthz: %d, TLS %+v", resp.StatusCode, resp.TLS)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if n := served(first); n != 1 {
		t.Fatalf("serial %d, want 1", n)
	}
	// The container health check trusts exactly the configured certificate.
	health := func() error {
		cmd := exec.Command(binary, "healthcheck", "--url", srv.URL+"/readyz")
		cmd.Env = append(os.Environ(), "B2BRIDGE_TLS_CERT_FILE="+certFile)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := health(); err != nil {
		t.Errorf("healthcheck over TLS: %v", err)
	}
	if _, err := http.Get(strings.Replace(srv.URL, "https://", "http://", 1) + "/healthz"); err == nil {
		t.Error("plain HTTP answered on the TLS port")
	}

	second := writeCertificate(t, certFile, keyFile, 2)
	if err := health(); err == nil {
		t.Error("healthcheck passed while the bridge serves another certificate than the file's")
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the renewed certificate", func() bool { return strings.Contains(srv.stderr.String(), "TLS certificate reloaded") })
	if n := served(second); n != 2 {
		t.Fatalf("after SIGHUP: serial %d, want 2", n)
	}
	if err := health(); err != nil {
		t.Errorf("healthcheck after the reload: %v", err)
	}

	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "the refusal of a broken key", func() bool { return strings.Contains(srv.stderr.String(), "TLS certificate not reloaded") })
	if n := served(second); n != 2 {
		t.Fatalf("after a broken pair: serial %d, want 2 still", n)
	}
	if strings.Contains(srv.stderr.String(), "not a key") {
		t.Error("the log shows the key file's content")
	}
}

func waitFor(t *testing.T, limit time.Duration, what string, done func() bool) {
	t.Helper()
	for start := time.Now(); !done(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > limit {
			t.Fatalf("no %s after %v", what, limit)
		}
	}
}
